#!/bin/bash
# End to end with raw ESP (IP protocol 50, encap = no): e2e_udp.sh's checks,
# plus that the wire carries protocol 50 and no UDP/4500 at all.
ENCAP=no exec bash "$(dirname "$0")/e2e_udp.sh"
