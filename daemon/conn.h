/*
 * IKEv2 connections in the daemon: one sans-I/O engine (ike/engine.h) for
 * all of them (each configured connection is one of its peers), wired to
 * the sockets, the SAD and the address pools.
 *
 * This module holds the policy the engine leaves to its user: which
 * connection an IKE datagram or an unprotected packet belongs to, when
 * SAs are rekeyed (time with jitter, bytes, packets) and when they expire,
 * what happens when a peer is dead or closes (dpd_action, close_action),
 * NAT keepalives, and turning CHILD_UP / CHILD_DOWN into ESP SAs in the
 * SAD (make-before-break: the new outbound SA takes over the selectors
 * while the old inbound one keeps decrypting until its Delete).
 *
 * No libuv here: loop.c calls in with the time (CLOCK_MONOTONIC ns) and
 * re-arms its one IKE timer at conns_next_expiry() after every call.
 */
#ifndef TUNSEC_DAEMON_CONN_H
#define TUNSEC_DAEMON_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "ike/engine.h"
#include "ike/satab.h"

struct daemon;
struct tunnel;

struct pool;

/* A virtual IP a client holds (daemon/pool.h). */
struct conn_lease {
	struct pool *pool;
	uint8_t addr[16];
};

/* The daemon's own timers for one IKE SA (the engine's are protocol), and
 * the addresses it leased to the peer. In d->ikesas by id. */
struct conn_ikesa {
	struct hlink l;
	struct conn_ikesa *prev, *next; /* its connection's list */
	/* the connection the engine runs it under, which may change once,
	 * after EAP, when a RADIUS Class picks another (conn.c ikesa_move) */
	struct conn *conn;
	uint32_t id;
	bool up;
	bool initiator;
	bool behind_nat;
	struct ike_path path;
	struct ike_suite suite;
	uint64_t spi_i, spi_r;
	uint64_t up_at;
	uint64_t rekey_at;  /* 0: none */
	uint64_t reauth_at; /* 0: none */
	uint64_t hard_at;   /* over_time: delete if still here */
	uint64_t keepalive_at;
	bool rekey_asked, closing;
	/* the identity the peer authenticated (type 0 until known): whose
	 * CHILD_SAs these are (RFC 4301 §5.1, see on_child_up) */
	struct ike_identity peer_id;
	size_t n_leases;
	struct conn_lease leases[IKE_CP_MAX_ADDRS];
	struct eapauth *eap; /* while its EAP runs (daemon/eapauth.h) */
	/* eap-radius (daemon/eapradius.h): from the first EAP message until
	 * the SA is gone (the user's attributes, accounting) */
	struct radsess *rad;
	/* the authentication round (1, or 2: RFC 4739) eap and rad talk in
	 * (0: none yet); a new round begins a new conversation */
	uint8_t eap_round;
	/* after two rounds, the identity the first proved (type 0: one
	 * round): a machine, when peer_id is its user */
	struct ike_identity peer_id1;
	/* traffic of its CHILD_SAs already freed, for accounting */
	uint64_t gone_in_octets, gone_out_octets, gone_in_packets, gone_out_packets;
	uint64_t session_end; /* RADIUS Session-Timeout: deleted then (0: none) */
	/* a client's (vips): what the server's CFG_REPLY gave (RFC 7296
	 * §2.19); its addresses are on the TUN device while the IKE SA (or
	 * its rekeyed successor) lasts. NULL: none. */
	struct ike_cp_reply *vip;
	unsigned vip_added; /* bit i: vip->addrs[i] was put there by us */
	uint8_t term_cause;   /* Acct-Terminate-Cause of its Stop (0: from the reason) */
};

struct radsess;
struct eap_tls_creds;

struct conn {
	struct cfg_conn cfg; /* own copy (PSK wiped at free) */
	struct ike_engine *e;    /* the daemon's engine (d->ike) */
	uint32_t peer;           /* this connection in it */
	struct ike_config icfg;
	struct ike_creds *creds; /* certificates, key, trust anchors (pubkey) */
	struct eap_tls_creds *eap_tls; /* EAP-TLS's, lent to conversations (eapauth.h) */
	/* round 2's (RFC 4739), which has other files in each role: [0] as
	 * the peer (local-2), [1] as the server (remote-2); NULL: none */
	struct eap_tls_creds *eap_tls2[2];
	struct conn_ikesa *sas;  /* IKE SAs up (or given addresses) */
	size_t n_sas;
	struct tunnel *children; /* installed CHILD_SAs, newest first */
	/* Rekeyed CHILD_SAs after their Delete: inbound only, until their
	 * linger_until, for the packets still in flight (see conn.c). */
	struct tunnel *lingering;
	bool trap;		 /* an unprotected packet starts the SA */
	uint64_t restart_at;	 /* re-initiate then (dpd/close_action) */
	uint64_t acquire_after;	 /* rate limit for trap-started initiation */
	uint64_t initiations, acquires, up_count;
	struct log_limit refused_log; /* "refused proposal" lines */
	struct log_limit failed_log;  /* IKE SAs that failed before they were up */
	struct log_limit ts_log;      /* CHILD_SAs refused for another's selectors */
};

/* `tunsecd -t`: what conns_setup() would refuse without touching the
 * system: certificates, keys and trust anchors load, and each
 * connection's IKE settings pass ike_config_check(). 0 or -1 (logged). */
int conns_check(const struct tunsec_config *cfg);

/* Create the engines of d->cfg's connections. 0 or -errno (logged). */
int conns_setup(struct daemon *d);

/* Start what start_action asks for (after the loop is ready). */
void conns_start(struct daemon *d, uint64_t now);

/* Send a Delete for every IKE SA (shutdown, RFC 7296 §1.4.1). */
void conns_shutdown(struct daemon *d, uint64_t now);

/* Free the engines and every negotiated SA, keys wiped. */
void conns_free(struct daemon *d);

/* One IKE datagram (non-ESP marker already stripped) along path. */
void conns_ike_input(struct daemon *d, const struct ike_path *path, const uint8_t *pkt,
		     size_t len, uint64_t now);

/*
 * Hold the IKE datagrams the engine sends from now on, and send them with
 * one sendmmsg() per socket at conns_ike_flush() (daemon/loop.c: around
 * one receive batch). Without memory for the queue, they leave at once.
 */
void conns_ike_hold(struct daemon *d);
void conns_ike_flush(struct daemon *d);

/* The RADIUS socket fd is readable (daemon/eapradius.h). */
void conns_radius_input(struct daemon *d, int fd, uint64_t now);

/* Engine and RADIUS timers. */
uint64_t conns_next_expiry(struct daemon *d);
void conns_expire(struct daemon *d, uint64_t now);

/* Every conns_tick_ms(): activity, lifetimes, keepalives, restarts. */
void conns_tick(struct daemon *d, uint64_t now);
/* The tick's period: a second, shorter (down to 50 ms) where a connection's
 * lifetimes are so short that a second would be a tenth of one of them. */
unsigned conns_tick_ms(const struct daemon *d);

/* An unprotected packet from the TUN found no SA (RFC 4301 §5.2's
 * "trap"): start or extend an SA if a trap connection covers it. True if
 * an engine was asked (its timers may have changed). */
bool conns_acquire(struct daemon *d, const uint8_t *ip, size_t len, uint64_t now);

/* `tunsec up NAME` / `down NAME`: 0, or -ENOENT / -EINVAL / -EALREADY,
 * with a line for the user in msg. */
int conn_up(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap);
int conn_down(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap);
/* `tunsec rekey NAME`: rekey each CHILD_SA of the connection now (as its
 * rekey_time would). 0, -ENOENT, or -EALREADY (nothing to rekey). */
int conn_rekey(struct daemon *d, const char *name, uint64_t now, char *msg, size_t cap);

/* `tunsec reload`: re-read the file; connections added, removed or
 * changed are started, deleted or replaced; unchanged ones keep their
 * SAs. 0 or -1 with the error in msg. */
int conns_reload(struct daemon *d, uint64_t now, char *msg, size_t cap);

/* The daemon's record of IKE SA id (its timers, leases, peer identity),
 * or NULL: O(1), a hash by id. */
struct conn_ikesa *conn_ikesa_find(struct daemon *d, uint32_t id);

/* Name of a negotiated tunnel ("conn/child"), for logs. */
const char *conn_tunnel_name(const struct tunnel *t);

uint64_t conn_mono_now(void);

#endif
