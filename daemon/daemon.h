/*
 * The daemon's state, shared by main.c (set-up and tear-down), loop.c (the
 * libuv loop and the data path) and ctl.c (the control socket's answers).
 */
#ifndef TUNSEC_DAEMON_DAEMON_H
#define TUNSEC_DAEMON_DAEMON_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon/config.h"
#include "esp/esp.h"
#include "ike/satab.h"
#include "tun/tun.h"

struct sad;
struct netcfg;
struct pool_route;
struct loop;
struct radhub;
struct ike_txq;

#define TUNSEC_VERSION "0.1.0"

/*
 * A pair of SAs, inbound and outbound: a static-key tunnel (cfg set) or a
 * CHILD_SA negotiated by IKE (conn set).
 */
struct tunnel {
	const struct cfg_manual *cfg;
	struct esp_sa in;
	struct esp_sa out;
	int out_fd; /* socket the outbound SA sends on */
	uint64_t peer_moves; /* times the peer's address/port changed */
	time_t created;

	/* CHILD_SAs only (daemon/conn.c) */
	struct conn *conn;
	struct tunnel *next;
	uint32_t sa_id;	     /* the IKE SA it belongs to */
	uint16_t pfs;	     /* key exchange group of its exchange, or 0 */
	uint64_t up_at;	     /* CLOCK_MONOTONIC ns */
	uint64_t rekey_at;   /* 0: never by time */
	uint64_t hard_at;    /* 0: never by time */
	uint64_t seen_in;    /* inbound packets at the last activity report */
	bool rekey_asked;    /* rekey requested (or the peer rekeyed it) */
	bool deleting;	     /* Delete requested */
	bool replaced;	     /* a rekeyed SA took over (or will take over) */
	/* A rekey we answered (RFC 7296 §2.8): the new outbound SA waits
	 * outside the SAD until the initiator shows it has the SA installed
	 * (it deletes the old SA, or sends on the new one). */
	bool out_pending;
	uint32_t rekey_of;   /* spi_in of the SA a rekey replaces, or 0 */
	uint64_t linger_until; /* deleted, inbound kept until then (ns) */
};

/* Counters for what has no SA to be counted on. */
struct daemon_counters {
	struct esp_stats esp; /* unknown-spi, no-sa, not-ip, short, ... */
	/* What negotiated SAs counted before they were deleted. */
	uint64_t gone_drops[ESP_DROP_MAX];
	uint64_t gone_packets_in, gone_packets_out;
	uint64_t keepalives_rx;
	uint64_t keepalives_tx;
	uint64_t ike_ignored; /* IKE datagrams no connection wanted */
	uint64_t ike_rx;      /* IKE datagrams handed to a connection */
	uint64_t ike_tx;
	uint64_t ike_tx_failed;
	uint64_t acquires;    /* unprotected packets that started an SA */
	/* CHILD_SAs refused: their remote selectors overlap those of another
	 * identity's CHILD_SA (RFC 4301 §5.1; daemon/conn.c) */
	uint64_t ts_refused;
	uint64_t natt_invalid;
	uint64_t rx_truncated; /* datagrams larger than a packet cell */
	uint64_t mss_clamped;
	/* TUN offloads (tun/offload.h) */
	uint64_t tso_split;	/* super-packets from the TUN cut into segments */
	uint64_t tso_segments;	/* segments they gave */
	uint64_t gro_merged;	/* super-packets written to the TUN */
	uint64_t gro_segments;	/* segments that went into them */
	uint64_t offload_bad;	/* TUN reads with a malformed virtio header: dropped */
	/* UDP offloads (daemon/loop.c) */
	uint64_t udp_gro_merged;   /* inner UDP super-packets written to the TUN */
	uint64_t udp_gro_segments; /* datagrams that went into them */
	uint64_t udp_gro_failed;   /* of those the TUN refused (their datagrams dropped) */
	uint64_t udp_gso_sent;	   /* ESP-in-UDP sends with UDP_SEGMENT */
	uint64_t udp_gso_segments; /* ESP datagrams in them */
	uint64_t udp_gso_failed;   /* UDP_SEGMENT sends refused: resent one by one */
	uint64_t esp_gro_rx;	   /* coalesced ESP-in-UDP receives (UDP_GRO) */
	uint64_t esp_gro_segments; /* ESP datagrams split out of them */
	uint64_t esp_gro_bad;	   /* truncated control data on a UDP_GRO socket: dropped */
};

struct daemon {
	struct tunsec_config cfg;
	struct tun tun;
	unsigned mtu;
	struct netcfg *netcfg;
	struct sad *sad;
	struct tunnel *tunnels; /* static-key tunnels */
	size_t n_tunnels;
	struct conn **conns;	/* IKEv2 connections (daemon/conn.h) */
	size_t n_conns;
	struct ike_engine *ike;	/* the one IKE engine, all connections its peers */
	struct htab ikesas;	/* struct conn_ikesa by IKE SA id */
	struct radhub *radius;	/* tunsec.radius (daemon/eapradius.h), or NULL */
	struct pool **pools;	/* address pools, d->cfg.pools' order */
	size_t n_pools;
	struct pool **old_pools; /* replaced by a reload, still leased from */
	size_t n_old_pools;
	struct pool_route *pool_routes; /* pool ranges routed into the TUN (conn.c) */
	size_t n_pool_routes;
	int udp4_natt, udp6_natt; /* port_nat_t: ESP in UDP and IKE */
	int udp4_ike, udp6_ike;	  /* port: IKE */
	int raw4, raw6;		  /* IP protocol 50, when some tunnel uses raw ESP */
	int ctl_fd;		  /* listening control socket */
	struct daemon_counters cnt;
	time_t started;
	struct loop *loop;
	struct ike_txq *ike_txq; /* IKE datagrams held for one sendmmsg (conn.c) */
};

/* Run the event loop until SIGINT/SIGTERM. 0 or -errno. */
int loop_run(struct daemon *d);

/* Answer one control command ("status", "stats", "pools", "version", ...):
 * *answer is malloc'd (the caller frees it), its length returned, or
 * -ENOMEM. An answer that would pass the control socket's limit (64 MiB)
 * is cut, and then ends with a line starting "cut:". */
ssize_t ctl_answer(struct daemon *d, const char *cmd, char **answer);

/* The control socket: bind, listen, 0600. -errno. */
int ctl_listen(const char *path);

#endif
