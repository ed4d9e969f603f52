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
	bool raw_esp;			/* any SA uses raw ESP: open the raw socket */
	struct cfg_manual *manual;
	size_t n_manual;
};

/*
 * Load and check path. On error returns -1 and writes one line to err like
 * "tunsec.conf:12: manual.gw.key_in: expected 36 bytes of hex, got 32".
 */
int config_load(struct tunsec_config *c, const char *path, char *err, size_t errlen);

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
