"""The fences around a SPARQL query process: no network, a low priority, and no life of its own
past the gateway that started it.

pyoxigraph answers a ``SERVICE`` clause by fetching the URL it names, and no option of its
Python API turns that off. Refusing the keyword in the query's text is a guess at how its
parser reads the text; a seccomp filter that makes every ``socket()`` call fail is not: the
process cannot open a connection, however the query is written. The process gets its data from
the gateway over pipes it inherited, so it needs no socket of its own.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SIGKILL = 9
# Per architecture: the audit id seccomp reports, then the numbers of socket() and of
# io_uring_setup() (an io_uring can open sockets without calling socket()).
ARCHITECTURES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: its own socket() number, refused as well

# Classic BPF, as seccomp reads it: load a word of seccomp_data, compare, return.
LOAD_WORD, JUMP_IF_EQUAL, JUMP_IF_AT_LEAST, RETURN = 0x20, 0x15, 0x35, 0x06
NR_OFFSET, ARCH_OFFSET = 0, 4


class SandboxUnavailable(RuntimeError):
    """The kernel or the platform cannot fence the process; queries are then not run."""


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _instruction(code: int, jump_true: int, jump_false: int, value: int) -> bytes:
    return struct.pack("HBBI", code, jump_true, jump_false, value)


def socket_filter(arch: int, socket_nr: int, io_uring_nr: int) -> bytes:
    """Every syscall allowed but socket() and io_uring_setup(), which fail with EACCES; a
    syscall of another ABI (i386, x32) fails too, so no other number for socket() gets through."""
    refuse = SECCOMP_RET_ERRNO | errno.EACCES
    program = [
        _instruction(LOAD_WORD, 0, 0, ARCH_OFFSET),
        _instruction(JUMP_IF_EQUAL, 0, 5, arch),  # another ABI: refuse
        _instruction(LOAD_WORD, 0, 0, NR_OFFSET),
        _instruction(JUMP_IF_AT_LEAST, 3, 0, X32_SYSCALL_BIT),
        _instruction(JUMP_IF_EQUAL, 2, 0, socket_nr),
        _instruction(JUMP_IF_EQUAL, 1, 0, io_uring_nr),
        _instruction(RETURN, 0, 0, SECCOMP_RET_ALLOW),
        _instruction(RETURN, 0, 0, refuse),
    ]
    return b"".join(program)


def _prctl(libc: ctypes.CDLL, option: int, value: int, pointer: object = None) -> None:
    if libc.prctl(option, ctypes.c_ulong(value), pointer, 0, 0) != 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(f"prctl({option}) failed: {os.strerror(code)}")


def enter() -> None:
    """Fence this process: it dies with its parent, yields the CPU to the gateway and cannot
    open a socket. Raises :class:`SandboxUnavailable` where that cannot be done."""
    machine = platform.machine()
    if platform.system() != "Linux" or machine not in ARCHITECTURES:
        raise SandboxUnavailable(f"no seccomp filter for {platform.system()} {machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    _prctl(libc, PR_SET_PDEATHSIG, SIGKILL)
    os.nice(10)
    program = socket_filter(*ARCHITECTURES[machine])
    fprog = _SockFprog(len(program) // 8, program)
    _prctl(libc, PR_SET_NO_NEW_PRIVS, 1)
    _prctl(libc, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog))
