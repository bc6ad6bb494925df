"""A program for the output events: plain lines, a capture-mode message between
<!--XSUPERVISOR:BEGIN--> and <!--XSUPERVISOR:END--> (split over two writes), stderr with a byte
that is not UTF-8; a pause between writes so that each is read on its own."""
import sys
import time

for part in ["line one\n", "before <!--XSUPERVISOR:BEGIN-->captured \u00e9\n",
             "data<!--XSUPERVISOR:END--> after\n",
             "a last line long enough to be logged at once\n"]:
    sys.stdout.write(part)
    sys.stdout.flush()
    time.sleep(0.2)
sys.stderr.write("to stderr\n")
sys.stderr.flush()
time.sleep(0.2)
sys.stderr.buffer.write(b"bad \xff byte\n")
sys.stderr.flush()
time.sleep(1000)
