"""Writes made in one event-loop pass leave a real socket in one send."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ruvstream.api.coalesce import CoalescingTransport


class Sink(asyncio.Protocol):
    pass


async def _pair() -> tuple[CoalescingTransport, Any, socket.socket]:
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(Sink, sock=ours)
    sends: list[bytes] = []
    original = transport.write

    def counting(data: Any) -> None:
        sends.append(bytes(data))
        original(data)

    transport.write = counting  # type: ignore[method-assign]
    return CoalescingTransport(transport, loop), sends, theirs  # type: ignore[arg-type]


async def _received(peer: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < size:
        data += await loop.sock_recv(peer, size - len(data))
    return data


async def test_head_and_body_written_in_one_pass_go_out_as_one_send() -> None:
    coalescing, sends, peer = await _pair()
    coalescing.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    coalescing.write(b"{}")
    assert sends == [], "nothing leaves before the pass ends"
    await asyncio.sleep(0)
    assert sends == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    assert await _received(peer, 40) == sends[0]
    coalescing.close()
    peer.close()


async def test_close_sends_what_was_written_first() -> None:
    coalescing, sends, peer = await _pair()
    coalescing.write(b"goodbye")
    coalescing.close()
    assert sends == [b"goodbye"]
    assert await _received(peer, 7) == b"goodbye"
    peer.close()


async def test_unwrap_flushes_and_hands_back_the_plain_transport() -> None:
    coalescing, sends, peer = await _pair()
    coalescing.write(b"101 switching")
    plain = coalescing.unwrap()
    assert sends == [b"101 switching"]
    assert not isinstance(plain, CoalescingTransport)
    plain.close()
    peer.close()


async def test_a_large_write_goes_out_at_once_and_in_order() -> None:
    coalescing, sends, peer = await _pair()
    big = b"x" * (128 * 1024)
    coalescing.write(big)
    assert sends == [big], "nothing pending: a large body is not held back"
    coalescing.write(b"head")
    coalescing.write(big)  # something is pending now: it waits its turn
    assert len(sends) == 1
    await asyncio.sleep(0)
    assert sends[1] == b"head" + big
    received = await _received(peer, 2 * len(big) + 4)
    assert received == big + b"head" + big
    coalescing.close()
    peer.close()


async def test_a_whole_answer_goes_out_at_once_behind_anything_pending() -> None:
    coalescing, sends, peer = await _pair()
    coalescing.write_now(b"answer one")
    assert sends == [b"answer one"], "nothing pending: no pass to wait for"
    coalescing.write(b"head ")
    coalescing.write_now(b"answer two")  # sent with what is pending, in order
    assert sends == [b"answer one", b"head answer two"]
    await asyncio.sleep(0)
    assert len(sends) == 2, "the pass scheduled for the head finds nothing left"
    assert await _received(peer, 25) == b"answer onehead answer two"
    coalescing.close()
    peer.close()
