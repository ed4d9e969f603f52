/*
 * tunsecd's configuration: strongSwan's swanctl.conf syntax and key names
 * (nested `name { key = value }` sections, `#` comments, `include FILE`
 * with globs relative to the including file, comma-separated lists), so that
 * strongSwan users can carry their files over.
 *
 *	tunsec {                      # daemon settings
 *		interface = tunsec0
 *		addrs = 10.201.1.1/32, fd01::1/128
 *		...
 *	}
 *	manual {                      # static-key tunnels (like ip xfrm state)
 *		NAME { local_addrs = ..., spi_in = 0x..., key_in = 0x..., ... }
 *	}
 *	connections {                 # IKEv2, swanctl.conf(5) keys and defaults
 *		NAME { remote_addrs = ..., local { }, remote { }, children { C { } } }
 *	}
 *	secrets {                     # PSKs (ike-*), private key files
 *		ike-X { id = ..., secret = ... }
 *	}
 *	pools {                       # virtual IPs for road warriors
 *		NAME { addrs = 10.10.0.0/24, dns = ..., nbns = ..., split_include = ... }
 *	}
 *
 * Every key is documented in daemon/tunsec.conf.5. Unknown sections or keys,
 * bad values and missing required keys are errors naming file, line and key;
 * config_load() then returns -1 with the message in err and nothing half
 * loaded.
 */
#ifndef TUNSEC_DAEMON_CONFIG_H
#define TUNSEC_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/aead.h"
#include "esp/esp.h"
#include "esp/sel.h"
#include "ike/engine.h"

#define CFG_NAME_MAX 64
#define CFG_MAX_ADDRS 8

struct cfg_prefix {
	int family; /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

/* One static-key tunnel: both directions. */
struct cfg_manual {
	char name[CFG_NAME_MAX];
	struct sockaddr_storage local;	/* local_addrs, port local_port (4500) */
	struct sockaddr_storage remote; /* remote_addrs, port remote_port (4500) */
	enum esp_encap_mode encap;	/* encap = yes (UDP, default) | no (raw ESP) */
	int encr;			/* from esp_proposals, e.g. aes256gcm16-esn */
	unsigned key_bits;
	int integ;
	bool esn;
	uint32_t spi_in, spi_out;	/* host order, >= 256 (RFC 4303 §2.1) */
	uint8_t key_in[AEAD_MAX_KEYMAT];  /* keymat as aead_new() takes it */
	uint8_t key_out[AEAD_MAX_KEYMAT];
	size_t key_len;
	struct esp_sel local_ts[ESP_MAX_SELS];
	struct esp_sel remote_ts[ESP_MAX_SELS];
	unsigned n_local_ts, n_remote_ts;
	uint32_t replay_window;		/* default REPLAY_DEFAULT */
	bool nat_keepalive;		/* send 0xFF keepalives (we are behind a NAT) */
};

/*
 * One virtual-IP pool (pools.NAME, swanctl.conf(5)): the addresses handed to
 * road warriors in CFG replies (RFC 7296 section 2.19) and the attributes
 * pushed with them (section 3.15.1). daemon/pool.c hands out the leases.
 */
#define CFG_MAX_POOLS 64	/* pools { } sections */
#define CFG_POOL_MAX_DNS 8
#define CFG_POOL_MAX_NBNS 4
#define CFG_POOL_MAX_SPLIT 16
#define CFG_CONN_MAX_POOLS 4	/* connections.NAME.pools */

struct cfg_pool {
	char name[CFG_NAME_MAX];
	int family;			/* AF_INET / AF_INET6, of the whole range */
	/* addrs, inclusive, network byte order, IPv4 in the first 4 bytes.
	 * From a prefix: its network address and (IPv4) its broadcast
	 * address left out, as strongSwan does (10.10.0.0/24: .1 to .254);
	 * from a range "A-B": A to B as written. Never empty. */
	uint8_t start[16], end[16];
	struct cfg_prefix dns[CFG_POOL_MAX_DNS];	/* hosts, either family */
	unsigned n_dns;
	struct cfg_prefix nbns[CFG_POOL_MAX_NBNS];	/* hosts, IPv4 only */
	unsigned n_nbns;
	struct cfg_prefix split_include[CFG_POOL_MAX_SPLIT]; /* subnets */
	unsigned n_split_include;
};

/* swanctl.conf's enumerations, strongSwan's defaults first. */
enum cfg_start_action { CFG_START_NONE = 0, CFG_START_TRAP, CFG_START_START };
enum cfg_peer_action { CFG_ACTION_CLEAR = 0, CFG_ACTION_NONE, CFG_ACTION_TRAP, CFG_ACTION_RESTART };
/* auth = psk | pubkey | eap-mschapv2 | eap-tls | eap-radius (remote: we
 * are the EAP server, EAP-MSCHAPv2 users from secrets eap-NAME /
 * ntlm-NAME, EAP-TLS users by a certificate from remote.cacerts,
 * eap-radius: the RADIUS servers of tunsec.radius decide; local: we are
 * the EAP peer, EAP-TLS with local.certs and the server's CA in
 * remote.cacerts) */
enum cfg_auth {
	CFG_AUTH_PSK = 0,
	CFG_AUTH_PUBKEY,
	CFG_AUTH_EAP_MSCHAPV2,
	CFG_AUTH_EAP_TLS,
	CFG_AUTH_EAP_RADIUS,
	CFG_AUTH_EAP_DYNAMIC, /* remote only: EAP-TLS or EAP-MSCHAPv2, the peer's pick */
	/* auth = eap: remote, as eap-dynamic; local, whichever of EAP-TLS
	 * (with certs) and EAP-MSCHAPv2 (with a secret) the server starts */
	CFG_AUTH_EAP_ANY,
};

static inline bool cfg_auth_is_eap(enum cfg_auth a)
{
	return a != CFG_AUTH_PSK && a != CFG_AUTH_PUBKEY;
}
enum cfg_frag { CFG_FRAG_YES = 0, CFG_FRAG_ACCEPT, CFG_FRAG_FORCE, CFG_FRAG_NO };
enum cfg_send_cert { CFG_CERT_IFASKED = 0, CFG_CERT_ALWAYS, CFG_CERT_NEVER };
/*
 * connections.NAME.unique: what a new IKE SA does to the IKE SAs that
 * already exist with the same remote identity (strongSwan compares the
 * remote IKE identity; swanctl.conf(5)).
 *   no       (default) keep both, unless the new one is an INITIAL_CONTACT
 *            (RFC 7296 section 3.16): then the old ones are deleted
 *   never    keep both, even on INITIAL_CONTACT
 *   keep     refuse the new IKE SA, keep the old one
 *   replace  delete the old IKE SA(s) once the new one is up
 */
enum cfg_unique { CFG_UNIQUE_NO = 0, CFG_UNIQUE_NEVER, CFG_UNIQUE_KEEP, CFG_UNIQUE_REPLACE };

#define CFG_PROPOSALS_MAX 512
#define CFG_MAX_CERTS 4
#define CFG_MAX_GROUPS 8

/* secrets.eap-NAME { id, secret } (a password) and secrets.ntlm-NAME { id,
 * secret = 0x<16 bytes> } (its NT hash, MD4 of the UTF-16LE password, so
 * that the server keeps no password): strongSwan's two kinds. */
#define CFG_EAP_IDS 4
struct cfg_eap_secret {
	char ids[CFG_EAP_IDS][256]; /* the user names it is for; none: anyone */
	unsigned n_ids;
	uint8_t secret[256];
	size_t len;
	bool nt_hash;
};

/* tunsec.radius { servers { NAME { } } ... }: the RADIUS servers that
 * remote.auth = eap-radius passes EAP through to (RFC 3579), and
 * accounting (RFC 2866). Key names are strongSwan's eap-radius plugin's. */
#define CFG_RADIUS_SERVERS 8
struct cfg_radius_server {
	char name[64];
	struct sockaddr_storage addr; /* address; port unused */
	uint16_t auth_port, acct_port; /* 0: 1812, 1813 */
	size_t secret_len;
	uint8_t secret[128];
};
struct cfg_radius {
	size_t n_servers; /* 0: no RADIUS */
	struct cfg_radius_server servers[CFG_RADIUS_SERVERS]; /* in file order = preference */
	bool accounting;             /* Start/Interim/Stop, default no */
	uint64_t accounting_interval; /* ms between Interim-Updates; 0: none */
	char nas_identifier[64];     /* default "tunsec" */
	unsigned retransmit_timeout_ms; /* 0: 2 s */
	unsigned retransmit_base;       /* thousandths; 0: 1.4 */
	unsigned retransmit_tries;      /* 0: 4 */
};

/* One end of an IKE connection in one authentication round:
 * connections.NAME.local / .remote (and local-2 / remote-2, below). */
struct cfg_end {
	enum cfg_auth auth;		/* auth = pubkey (strongSwan's default) | psk */
	struct ike_identity id;		/* id; type 0: local: our address (set at run
					 * time), remote: %any (default) */
	char id_text[256];		/* id as written, for status and logs */
	/* eap_id: the EAP identity (local: ours, default our id; remote:
	 * %any = ask the peer for it with EAP-Identity, the default) */
	char eap_id[256];
	/* local.certs (ours, the first is the end entity) / remote.cacerts
	 * (trust anchors): absolute paths, resolved relative to the file
	 * that named them. */
	char certs[CFG_MAX_CERTS][4096];
	unsigned n_certs;
	/* remote.aaa_id (strongSwan's): the EAP server's identity, which an
	 * EAP-TLS peer checks the TLS server's certificate against, when it
	 * is not the gateway's (a RADIUS server behind it); type 0: id */
	struct ike_identity aaa_id;
	/* remote.groups (with eap-radius): the RADIUS Class one of which the
	 * user's Access-Accept must carry (strongSwan's class_group) */
	char groups[CFG_MAX_GROUPS][64];
	unsigned n_groups;
};

/*
 * One IKEv2 connection (connections.NAME) with its one CHILD_SA config
 * (children.CHILD). Durations in milliseconds; 0 means "never"/"off" except
 * where noted. Defaults are strongSwan's (swanctl.conf(5)).
 */
struct cfg_conn {
	char name[CFG_NAME_MAX];
	char child_name[CFG_NAME_MAX];
	/* local_addrs: empty = %any. remote_addrs: hosts or subnets; empty
	 * = %any (responder only). We initiate to the first host address.
	 * Ports: tunsec.port (initiating) and whatever the peer uses. */
	struct cfg_prefix local_addrs[CFG_MAX_ADDRS];
	unsigned n_local_addrs;
	struct cfg_prefix remote_addrs[CFG_MAX_ADDRS];
	unsigned n_remote_addrs;
	char proposals[CFG_PROPOSALS_MAX];	/* IKE; "default" if unset */
	char esp_proposals[CFG_PROPOSALS_MAX];	/* children.X.esp_proposals */
	bool encap;				/* encap = no (default) | yes: force UDP */
	enum cfg_frag fragmentation;
	/* Durations in milliseconds (swanctl.conf's s, m, h, d, and our ms). */
	uint64_t dpd_delay;			/* default 0 (off) */
	uint64_t dpd_timeout;			/* IKEv1 only in strongSwan: kept, unused */
	uint64_t rekey_time;			/* IKE SA, default 4h */
	uint64_t reauth_time;			/* default 0 */
	uint64_t over_time;			/* default 10% of max(rekey, reauth) */
	uint64_t rand_time;			/* default over_time */
	bool send_certreq;			/* default yes */
	enum cfg_send_cert send_cert;
	/* The first authentication round each way (local, local-1, ...:
	 * the first section whose name begins with local / remote). */
	struct cfg_end local, remote;
	/*
	 * The second round (RFC 4739; swanctl's second local* / remote*
	 * section, in the order written or by their round keys), EAP only:
	 * local2 is the initiator's login after its first round (a user's
	 * password after the machine's certificate), remote2 the one we
	 * require of the peer. Their certs (local2, EAP-TLS as the peer) and
	 * cacerts (remote2, the users' CA for EAP-TLS as the server) are their
	 * own; the other end of such a round is the first round's (our
	 * certificate as the EAP-TLS server: local.certs; the server's CA as
	 * the EAP-TLS peer: remote.cacerts). Zero unless has_local2 /
	 * has_remote2.
	 */
	struct cfg_end local2, remote2;
	bool has_local2, has_remote2;
	/* secrets.ike-X whose ids match best (strongSwan's rule: the sum of
	 * the match levels of our and the peer's id; exact beats wildcard
	 * beats a secret without ids); set when either auth is psk */
	uint8_t psk[IKE_PSK_MAX];
	size_t psk_len;
	/* children.CHILD */
	struct esp_sel local_ts[ESP_MAX_SELS];	/* default: dynamic = our address */
	unsigned n_local_ts;
	struct esp_sel remote_ts[ESP_MAX_SELS];	/* default: the peer's address */
	unsigned n_remote_ts;
	uint64_t child_rekey_time;		/* default 1h */
	uint64_t child_life_time;		/* default rekey_time * 1.1 */
	uint64_t child_rand_time;		/* default life_time - rekey_time */
	uint64_t rekey_bytes, life_bytes;	/* default 0; life: rekey * 1.1 */
	uint64_t rekey_packets, life_packets;
	enum cfg_start_action start_action;
	enum cfg_peer_action dpd_action;	/* default clear */
	enum cfg_peer_action close_action;	/* default none */
	uint32_t replay_window;			/* default REPLAY_DEFAULT */
	/* pools = a, b: virtual IPs for peers that ask (RFC 7296 section
	 * 2.19), tried in this order; indexes into tunsec_config.pools */
	unsigned pools[CFG_CONN_MAX_POOLS];
	unsigned n_pools;
	/* vips = 0.0.0.0, ::: as the client, ask the server for a virtual
	 * IPv4 and/or IPv6 address (RFC 7296 section 2.19), which goes on
	 * the TUN device while the IKE SA lasts */
	bool vip4, vip6;
	enum cfg_unique unique;			/* default no */
	/* Last, and left out of a reload's comparison (CFG_CONN_CMP_LEN):
	 * "FILE:LINE" of its connections.NAME section, for messages. */
	char where[4096 + 16];
};

/* The bytes of a struct cfg_conn that say what the connection is: a
 * connection moved to another line of the file is not a changed one. */
#define CFG_CONN_CMP_LEN offsetof(struct cfg_conn, where)

struct tunsec_config {
	char path[4096];		/* the main file, for reload */
	char interface[16];		/* tunsec.interface, default "tunsec%d" */
	struct cfg_prefix addrs[CFG_MAX_ADDRS]; /* tunsec.addrs */
	unsigned n_addrs;
	unsigned mtu;			/* tunsec.mtu; 0: derived from the SAs */
	char user[64];			/* tunsec.user: drop privileges to it ("" keeps root) */
	char group[64];			/* tunsec.group */
	char socket_path[108];		/* tunsec.socket, default /run/tunsec.sock */
	uint16_t port;			/* tunsec.port, IKE, default 500 */
	uint16_t port_nat_t;		/* tunsec.port_nat_t, default 4500 */
	unsigned keepalive_sec;		/* tunsec.keepalive, default 20s */
	bool mss_clamp;			/* tunsec.mss_clamp, default yes */
	bool offload;			/* tunsec.offload: TUN TSO/GRO, default yes */
	bool udp_gso;			/* tunsec.udp_gso: UDP_SEGMENT sends, default yes */
	bool udp_gro;			/* tunsec.udp_gro: UDP_GRO receives, default yes */
	bool raw_esp;			/* any SA uses raw ESP: open the raw socket */
	struct cfg_manual *manual;
	size_t n_manual;
	struct cfg_conn *conns;		/* connections, secrets matched in */
	size_t n_conns;
	bool legacy_groups;		/* tunsec.legacy_groups: accept MODP 1024 */
	/* tunsec.legacy: Windows' default suite (AES-CBC with HMAC-SHA1-96,
	 * PRF_HMAC_SHA1, MODP 1024; AUTH method 1), see tunsec.conf(5) */
	bool legacy;
	/* tunsec.retransmit_timeout (ms), retransmit_base (thousandths),
	 * retransmit_tries: strongSwan's charon.retransmit_*; 0 = 4 s, 1.8, 5 */
	unsigned retransmit_timeout_ms;
	unsigned retransmit_base;
	unsigned retransmit_tries;
	bool no_retransmit;		/* retransmit_tries = 0 */
	unsigned cookie_threshold;	/* tunsec.cookie_threshold, default 10 */
	/* secrets.private-* / rsa-* / ecdsa-* / pkcs8-* file: absolute paths of
	 * our (unencrypted) private keys, resolved like local.certs. */
	char (*key_files)[4096];
	size_t n_key_files;
	struct cfg_eap_secret *eap_secrets; /* secrets { eap-* / ntlm-* } */
	size_t n_eap_secrets;
	struct cfg_radius radius;	/* tunsec.radius */
	struct cfg_pool *pools;		/* pools { }, in file order */
	size_t n_pools;
};

/*
 * Load and check path. On error returns -1 and writes one line to err like
 * "tunsec.conf:12: manual.gw.key_in: expected 36 bytes of hex, got 32".
 */
int config_load(struct tunsec_config *c, const char *path, char *err, size_t errlen);

/* The IKE_LEGACY_* flags (ike/proposal.h) c's tunsec section admits. */
unsigned config_legacy(const struct tunsec_config *c);

/* Wipe the keys and free what config_load() allocated. */
void config_free(struct tunsec_config *c);

/*
 * strongSwan ESP proposal keyword, one suite: "aes128gcm16", "aes256gcm16",
 * "chacha20poly1305", "aes128-sha256", "aes256-sha384", "aes256-sha512", ...
 * optionally followed by "-esn" or "-noesn". 0 or -1.
 */
int config_parse_esp_proposal(const char *s, int *encr, unsigned *key_bits, int *integ,
			      bool *esn);

#endif
