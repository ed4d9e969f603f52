#!/bin/bash
# asan: NAT detection, the move to 4500, UDP encapsulation
# ike_pair.sh with the client behind a real NAT (iptables MASQUERADE):
# NAT detection (RFC 7296 §2.23) moves IKE to port 4500, ESP is
# UDP-encapsulated (RFC 3948) and the client sends NAT keepalives.
NAT=yes exec "$(dirname "$0")/ike_pair.sh"
