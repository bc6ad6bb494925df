"""Runs as PID 1 of a corpus run's namespaces (tests/compat/test_corpus.py), before the
supervisor: gives it a private root where the corpus's programs are stubs at their exact paths,
then execs it there.

    unshare --net python3 corpus_root.py HOSTDIR SUPERVISOR ARGS...

HOSTDIR holds upper/ (the files the image would have: stubs, directories, /etc/passwd with the
corpus's users) and env.json (the supervisor's whole environment). The new root is an overlay of
/ and a copy of upper/ on a tmpfs (an upper layer inside its own lower layer is refused), with
HOSTDIR itself mounted at INSIDE, so every path in the config is the same for both supervisors
while their files stay apart. The network namespace has only loopback, so [inet_http_server]
ports never collide and nothing leaves the machine. Every HOSTDIR in ARGS becomes INSIDE."""
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys

INSIDE = "/corpus-run"


SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def sh(*argv):
    subprocess.run(argv, check=True)


def loopback_up():
    """`ip link set lo up`, without needing iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def main():
    host, argv = sys.argv[1], sys.argv[2:]
    layers = os.path.join(host, "layers")
    root = os.path.join(host, "root")
    os.makedirs(layers, exist_ok=True)
    os.makedirs(root, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", layers)
    sh("cp", "-a", os.path.join(host, "upper"), os.path.join(layers, "upper"))
    os.mkdir(os.path.join(layers, "work"))
    sh("mount", "-t", "overlay", "overlay", "-o",
       f"lowerdir=/,upperdir={layers}/upper,workdir={layers}/work", root)
    sh("mount", "-t", "proc", "proc", root + "/proc")
    sh("mount", "--rbind", "/dev", root + "/dev")
    sh("mount", "--rbind", "/sys", root + "/sys")
    os.makedirs(root + INSIDE, exist_ok=True)
    sh("mount", "--bind", host, root + INSIDE)
    loopback_up()
    with open(os.path.join(host, "env.json")) as f:
        env = json.load(f)
    argv = [a.replace(host, INSIDE) for a in argv]
    os.chroot(root)
    os.chdir("/")
    os.execve(argv[0], argv, env)


main()
