"""A program for the output events: plain lines, a capture-mode message between
<!--XSUPERVISOR:BEGIN--> and <!--XSUPERVISOR:END--> (split over two writes), stderr with a byte
that is not UTF-8, a capture-mode message on stderr; a pause between writes so that each is read on its own. Lines are longer than a capture token:
with *_capture_maxbytes set, supervisord holds back output of up to a token's length until more
comes (pidvisor only what may begin a token), which would make the pieces differ."""
import sys
import time

for part in ["line one\n", "before <!--XSUPERVISOR:BEGIN-->captured \u00e9\n",
             "data<!--XSUPERVISOR:END--> after\n",
             "a last line long enough to be logged at once\n"]:
    sys.stdout.write(part)
    sys.stdout.flush()
    time.sleep(0.2)
sys.stderr.write("to stderr, longer than a token\n")
sys.stderr.flush()
time.sleep(0.2)
sys.stderr.buffer.write(b"a bad \xff byte, longer than a token\n")
sys.stderr.flush()
time.sleep(0.2)
sys.stderr.write("<!--XSUPERVISOR:BEGIN-->on stderr<!--XSUPERVISOR:END-->"
                 " and a line long enough to go out\n")
sys.stderr.flush()
time.sleep(1000)
