# Convenience for machines that have make; run.sh is the source of truth.
.PHONY: demo test bundle
demo:
	./run.sh demo
test:
	./run.sh test
bundle:
	./run.sh bundle
