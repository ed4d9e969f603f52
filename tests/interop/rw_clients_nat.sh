#!/bin/bash
# Interop, strongSwan 5.9: tests/interop/rw_clients.sh with its clients
# behind one NAT (iptables MASQUERADE in the router namespace R; the
# server has no route to them). tunsecd sees every client at R's address,
# told apart by port (RFC 7296 §2.23, RFC 3948), and the same checks hold:
# distinct virtual IPs and DNS servers for three clients at once (§2.19,
# §3.15), traffic to the server and between clients, sticky leases,
# unique = replace, no drops. The header of rw_clients.sh has the details
# and the strongSwan client profile.
RW_NAT=1 exec bash "$(dirname "$0")/rw_clients.sh"
