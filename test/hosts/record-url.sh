#!/bin/sh
# The browser of the hosts under test (BROWSER=this script): the test plays the user, so the URL only goes to it.
printf '%s\n' "$1" >> "$OPENED_URLS"
