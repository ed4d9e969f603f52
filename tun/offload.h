/*
 * TUN offloads: the packet surgery behind segmentation offload on the way
 * out of the kernel (TSO/USO: one 64 KB "super-packet" per read, split here)
 * and receive coalescing on the way in (GRO: a run of TCP segments written
 * as one super-packet). Pure functions over byte buffers: no I/O, no
 * allocation, no logging; the device side (IFF_VNET_HDR, TUNSETOFFLOAD) is in
 * tun_linux.c and the plumbing in daemon/loop.c.
 *
 * Every packet crossing a TUN device opened with IFF_VNET_HDR is prefixed by
 * a 10-byte virtio-net header (virtio 1.x spec §5.1.6 "Device Operation",
 * struct virtio_net_hdr without num_buffers). The device uses the legacy
 * layout, whose 16-bit fields are in the host's byte order.
 *
 * Checksum conventions (as the kernel's CHECKSUM_PARTIAL): with
 * OFFLOAD_F_NEEDS_CSUM the 16-bit field at csum_start + csum_offset holds the
 * folded (not inverted) one's complement sum of the pseudo-header, and the
 * checksum is completed by summing from csum_start to the end of the packet.
 */
#ifndef TUNSEC_TUN_OFFLOAD_H
#define TUNSEC_TUN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFFLOAD_VNET_HDR_LEN 10

/* flags */
#define OFFLOAD_F_NEEDS_CSUM 1
#define OFFLOAD_F_DATA_VALID 2
/* gso_type */
#define OFFLOAD_GSO_NONE   0
#define OFFLOAD_GSO_TCPV4  1
#define OFFLOAD_GSO_UDP    3 /* UFO: never negotiated, always refused */
#define OFFLOAD_GSO_TCPV6  4
#define OFFLOAD_GSO_UDP_L4 5
#define OFFLOAD_GSO_ECN    0x80

/* Largest super-packet either way: an IPv4 total length / IPv6 payload
 * length is 16 bits (no BIG TCP). */
#define OFFLOAD_MAX_PKT 65535
/* Most segments coalesced into one super-packet. */
#define OFFLOAD_GRO_MAX_SEGS 64

/* The virtio-net header, fields in host order. */
struct offload_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Decode / encode the 10 wire bytes (host byte order, legacy virtio). */
void offload_vnet_get(struct offload_vnet *v, const uint8_t b[static OFFLOAD_VNET_HDR_LEN]);
void offload_vnet_put(uint8_t b[static OFFLOAD_VNET_HDR_LEN], const struct offload_vnet *v);

/* A validated super-packet read from the TUN, ready to be cut. */
struct offload_gso {
	const uint8_t *pkt;
	size_t len;
	size_t l4_off;	/* IP header length: where TCP/UDP starts */
	size_t hdr_len; /* l4_off + TCP/UDP header */
	size_t mss;	/* payload bytes per segment (gso_size) */
	unsigned n;	/* number of segments */
	bool v6;
	bool udp;	/* USO (GSO_UDP_L4) rather than TSO */
};

/* Why offload_tun_in() refused a packet; loop.c counts them as one. */
enum offload_bad {
	OFFLOAD_BAD_NONE = 0,
	OFFLOAD_BAD_SHORT,	 /* shorter than its headers */
	OFFLOAD_BAD_GSO_TYPE,	 /* unknown gso_type, or TCPV4 on IPv6 ... */
	OFFLOAD_BAD_GSO_SIZE,	 /* gso_size 0, or a segment larger than the cell */
	OFFLOAD_BAD_CSUM_FIELDS, /* csum_start/offset outside the packet or not L4 */
	OFFLOAD_BAD_HDR_LEN,	 /* hdr_len beyond the packet */
	OFFLOAD_BAD_IP,		 /* IP lengths disagree with the read, fragment, ... */
	OFFLOAD_BAD_L4,		 /* GSO packet that is not TCP (UDP for USO) */
};

/*
 * Take one packet read from the TUN (without its virtio header, which is
 * passed decoded in v). seg_cap is the most bytes one output segment may
 * have (the packet cell's room).
 *
 * Returns
 *   0  not a GSO packet: pkt is ready to send as it is; if v asked for a
 *      checksum (NEEDS_CSUM) it has been completed in place;
 *   1  a GSO packet: g describes it; produce its g->n segments with
 *      offload_gso_segment();
 *  <0  -OFFLOAD_BAD_*: malformed, drop it (nothing was written).
 */
int offload_tun_in(struct offload_gso *g, const struct offload_vnet *v, uint8_t *pkt, size_t len,
		   size_t seg_cap);

/*
 * Write segment i (0 <= i < g->n) of g to out, at most cap bytes: the IP and
 * TCP/UDP headers copied and fixed (IPv4 total length, ID + i and header
 * checksum; IPv6 payload length; TCP sequence number + i * mss, FIN and PSH
 * only on the last segment, CWR only on the first; UDP length) and the full
 * L4 checksum computed. Returns the segment's length, or 0 if i or cap is
 * out of range.
 */
size_t offload_gso_segment(const struct offload_gso *g, unsigned i, uint8_t *out, size_t cap);

/*
 * Receive coalescing. A run starts with a TCP segment that
 * offload_gro_parse() accepted; offload_gro_append() then accepts each
 * following segment of the same flow that continues it, and
 * offload_gro_finish() turns the run's first packet into the header of the
 * super-packet and gives the virtio header to write in front of it. The
 * caller keeps the packets where they are and writes the first packet
 * followed by the payloads of the others (a writev), so nothing is copied.
 *
 * A segment joins a run only if (the kernel's own GRO rules, tcp_gro_receive
 * and inet_gro_receive, made strict): same IP version, addresses and ports;
 * IPv4 without options, DF set, not a fragment, same TOS and TTL; IPv6
 * without extension headers, same traffic class, flow label and hop limit;
 * TCP flags ACK or ACK|PSH only; same ACK number, window and options bytes;
 * seq continuing the run; a payload no larger than the first segment's, a
 * shorter one or a PSH closing the run; valid IP and TCP checksums; the
 * total within OFFLOAD_MAX_PKT and OFFLOAD_GRO_MAX_SEGS.
 *
 * UDP runs (offload_gro_parse_udp(), for a TUN that took USO) follow the
 * kernel's udp_gro_receive_segment: the same IP rules, same addresses and
 * ports; datagrams of the first one's payload size, a shorter one closing
 * the run; valid UDP checksums (not the IPv4 "none"). The super-packet goes
 * out as GSO_UDP_L4 with gso_size = that payload size, which the kernel
 * cuts back into the very same datagrams.
 */
struct offload_gro {
	uint8_t *pkt;	/* the first segment (its headers are rewritten) */
	size_t len;	/* total length of the super-packet */
	size_t l4_off;	/* IP header length */
	size_t hdr_len; /* IP + TCP header length */
	size_t mss;	/* the first segment's payload length */
	uint32_t next_seq;
	unsigned n;	/* segments in the run */
	bool v6;
	bool closed; /* no segment may follow (short one or PSH seen) */
	uint8_t last_flags;
	bool udp;    /* a run of UDP datagrams (next_seq, last_flags unused) */
};

/* Why a segment was refused (also for the table-driven tests). */
enum offload_gro_why {
	OFFLOAD_GRO_OK = 0,
	OFFLOAD_GRO_NOT_TCP, /* not IPv4/IPv6 TCP, options/extension headers, fragment */
	OFFLOAD_GRO_MALFORMED, /* lengths, checksums */
	OFFLOAD_GRO_FLAGS,   /* SYN, FIN, RST, URG, ECE, CWR, or no ACK */
	OFFLOAD_GRO_NO_DATA, /* pure ACK */
	OFFLOAD_GRO_FLOW,    /* other addresses, ports or IP version */
	OFFLOAD_GRO_IP_FIELDS, /* TOS/TTL/DF/traffic class/flow label/hop limit */
	OFFLOAD_GRO_TCP_FIELDS, /* ACK number, window, options */
	OFFLOAD_GRO_SEQ,     /* not the next sequence number */
	OFFLOAD_GRO_SIZE,    /* larger than the first, or the run is closed */
	OFFLOAD_GRO_FULL,    /* total length or segment count reached */
	OFFLOAD_GRO_NOT_UDP, /* offload_gro_parse_udp(): not IPv4/IPv6 UDP, options, ... */
};

/* One received segment, parsed and checked once by offload_gro_parse(). */
struct offload_seg {
	uint8_t *pkt;
	size_t len;
	size_t l4_off, hdr_len, payload;
	uint32_t seq;
	uint8_t flags; /* TCP flags byte */
	bool v6;
	bool udp; /* from offload_gro_parse_udp() (seq and flags are 0) */
};

/*
 * Parse pkt (len bytes) as a candidate for coalescing: IPv4 (no options,
 * not a fragment, DF set, valid header checksum) or IPv6 (no extension
 * headers) carrying TCP with a valid checksum, flags ACK or ACK|PSH, and
 * data. Returns OFFLOAD_GRO_OK and fills s, or why pkt must be written
 * alone (NOT_TCP, MALFORMED, IP_FIELDS, FLAGS, NO_DATA).
 */
enum offload_gro_why offload_gro_parse(struct offload_seg *s, uint8_t *pkt, size_t len);

/*
 * Parse pkt as a UDP datagram to coalesce: IPv4 (no options, not a
 * fragment, DF set, valid header checksum) or IPv6 (no extension headers)
 * carrying UDP whose length field matches, with a non-zero, valid checksum
 * and a payload. Returns OFFLOAD_GRO_OK and fills s (s->udp set), or why
 * pkt must be written alone (NOT_UDP, MALFORMED, IP_FIELDS, NO_DATA).
 */
enum offload_gro_why offload_gro_parse_udp(struct offload_seg *s, uint8_t *pkt, size_t len);

/* Start a run with the parsed segment s (TCP or UDP). */
void offload_gro_start(struct offload_gro *r, const struct offload_seg *s);

/*
 * Append s to r if it continues it; returns OFFLOAD_GRO_OK (r updated; the
 * caller keeps s->pkt + s->hdr_len .. s->pkt + s->len for the write) or why
 * not (r unchanged): FLOW for another connection (or the other protocol),
 * the others for the same connection (whose run must then be written
 * before s). For UDP: SIZE (larger than the first, or after a shorter one),
 * FULL, IP_FIELDS.
 */
enum offload_gro_why offload_gro_append(struct offload_gro *r, const struct offload_seg *s);

/*
 * Close the run: for a run of one segment the packet is left as it is and v
 * is all zero (GSO_NONE); otherwise the first segment's IPv4 total length
 * and header checksum or IPv6 payload length are set for the whole, PSH is
 * carried over from the last segment, the TCP checksum field receives the
 * pseudo-header sum (partial checksum), and v says TCPV4/TCPV6 with
 * gso_size = the first segment's payload, NEEDS_CSUM at the TCP checksum.
 * A UDP run instead gets the whole's UDP length, the pseudo-header sum in
 * the UDP checksum, and v says UDP_L4, gso_size = the first datagram's
 * payload, NEEDS_CSUM at the UDP checksum.
 */
void offload_gro_finish(struct offload_gro *r, struct offload_vnet *v);

/* The Internet checksum (RFC 1071) of p[0..n), added to sum, not folded. */
uint64_t offload_csum_add(uint64_t sum, const uint8_t *p, size_t n);
/* Fold to 16 bits (not inverted). */
uint16_t offload_csum_fold(uint64_t sum);

#endif
