"""A program for capture mode with its tokens cut across writes: each piece is read on its own
(a pause between writes), so a token's start waits for the next read to decide."""
import sys
import time

for part in ["left, a line long enough <!--XSUPERV", "ISOR:BEGIN-->sec",
             "ret<!--XSUPERVISOR:EN", "D--> right, and a line long enough to go out\n"]:
    sys.stdout.write(part)
    sys.stdout.flush()
    time.sleep(0.2)
time.sleep(1000)
