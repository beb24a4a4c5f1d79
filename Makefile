# Convenience for machines that have make; run.sh is the source of truth.
.PHONY: demo test
demo:
	./run.sh demo
test:
	./run.sh test
