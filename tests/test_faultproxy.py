"""The fault-injecting proxy used by the sync fault tests does what each mode promises."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.echo_server import EchoServer, echo_server
from tests.support.faultproxy import FaultProxy, Mode


@pytest.fixture
def upstream() -> Iterator[EchoServer]:
    with echo_server() as server:
        yield server


@pytest.fixture
def proxy(upstream: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url, slow_seconds=0.5, max_lifetime=60) as p:
        yield p


def post(proxy: FaultProxy, body: object, timeout: float = 5.0) -> requests.Response:
    return requests.post(proxy.url + "/echo", json=body, timeout=timeout)


def test_pass_through_relays_request_and_answer(proxy: FaultProxy, upstream: EchoServer) -> None:
    answer = post(proxy, {"hello": "世界"})
    assert answer.status_code == 200
    assert answer.json() == {"n": 1, "echo": {"hello": "世界"}}
    assert upstream.handled == 1
    assert proxy.events[0].forwarded and proxy.events[0].status == 200


def test_chunked_answers_are_relayed_whole(proxy: FaultProxy) -> None:
    answer = requests.get(proxy.url + "/chunked", timeout=5)
    assert answer.json() == {"n": 1, "chunked": True}


def test_reset_before_never_reaches_the_server(proxy: FaultProxy, upstream: EchoServer) -> None:
    proxy.set_mode(Mode.RESET_BEFORE)
    with pytest.raises(requests.ConnectionError):
        post(proxy, {"a": 1})
    assert upstream.handled == 0


def test_reset_after_loses_the_answer_of_a_handled_request(
    proxy: FaultProxy, upstream: EchoServer
) -> None:
    proxy.set_mode(Mode.RESET_AFTER)
    with pytest.raises(requests.ConnectionError):
        post(proxy, {"a": 1})
    assert upstream.handled == 1
    assert proxy.events[-1].forwarded


def test_http_500_and_503_are_answered_by_the_proxy(
    proxy: FaultProxy, upstream: EchoServer
) -> None:
    proxy.retry_after = "7"
    proxy.set_plan([Mode.HTTP_500, Mode.HTTP_503])
    first = post(proxy, {})
    second = post(proxy, {})
    assert first.status_code == 500
    assert first.headers["Content-Type"] == "application/problem+json"
    assert second.status_code == 503 and second.headers["Retry-After"] == "7"
    assert upstream.handled == 0
    # the plan is used up: the next request passes
    assert post(proxy, {}).status_code == 200


def test_slow_answers_arrive_late_or_time_out(proxy: FaultProxy, upstream: EchoServer) -> None:
    proxy.set_mode(Mode.SLOW)
    assert post(proxy, {"x": 1}).status_code == 200
    with pytest.raises(requests.Timeout):
        post(proxy, {"x": 2}, timeout=0.2)
    assert upstream.handled == 2


def test_truncate_cuts_the_stream_short(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.TRUNCATE)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(proxy.url + "/json?size=2000", timeout=5)


def test_truncate_body_sends_well_framed_invalid_json(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.TRUNCATE_BODY)
    answer = requests.get(proxy.url + "/json?size=2000", timeout=5)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_flip_byte_changes_exactly_one_byte(proxy: FaultProxy, upstream: EchoServer) -> None:
    clean = requests.get(proxy.url + "/json?size=500", timeout=5).content
    proxy.set_mode(Mode.FLIP_BYTE)
    flipped = requests.get(proxy.url + "/json?size=500", timeout=5).content
    # the counter differs (n=1 vs n=2) plus the flipped byte
    clean_again = clean.replace(b'"n": 1', b'"n": 2')
    assert len(flipped) == len(clean_again)
    assert sum(a != b for a, b in zip(flipped, clean_again, strict=True)) == 1


def test_path_prefix_rules_fault_only_matching_paths(
    proxy: FaultProxy, upstream: EchoServer
) -> None:
    proxy.set_mode(Mode.HTTP_500, path_prefix="/status")
    assert requests.get(proxy.url + "/status/200", timeout=5).status_code == 500
    assert post(proxy, {}).status_code == 200
    proxy.set_mode(Mode.PASS)
    assert requests.get(proxy.url + "/status/200", timeout=5).status_code == 200


def test_random_mix_is_reproducible_by_seed(proxy: FaultProxy) -> None:
    def run(seed: int) -> list[Mode]:
        proxy.events.clear()
        proxy.set_random([Mode.HTTP_500, Mode.HTTP_503], fault_rate=0.5, seed=seed)
        for _ in range(12):
            post(proxy, {})
        return [e.mode for e in proxy.events]

    assert run(3) == run(3)
    modes = set(run(3))
    assert Mode.PASS in modes and modes & {Mode.HTTP_500, Mode.HTTP_503}


def test_stop_closes_the_port_and_is_bounded(upstream: EchoServer) -> None:
    proxy = FaultProxy(upstream.url, max_lifetime=0.5).start()
    port = proxy.port
    time.sleep(0.8)  # past its lifetime: it stopped by itself
    proxy.stop()
    assert not proxy.running
    with socket.socket() as probe:
        probe.settimeout(1)
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_stop_does_not_hang_on_a_half_sent_request(upstream: EchoServer) -> None:
    proxy = FaultProxy(upstream.url, io_timeout=30).start()
    dangling = socket.create_connection(("127.0.0.1", proxy.port))
    dangling.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.1)
    proxy.stop()
    dangling.close()
    assert not any(worker.is_alive() for worker in proxy._workers)
