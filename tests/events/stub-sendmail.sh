#!/bin/sh
# A sendmail for the tests: each mail read from stdin goes to a new file in $MAILDIR.
n=$(ls "$MAILDIR" 2>/dev/null | wc -l)
cat > "$MAILDIR/mail.$n"
