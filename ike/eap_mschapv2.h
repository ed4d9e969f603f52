/*
 * EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 on RFC 2759), both
 * roles, as an EAP method of ike/eap.h, with the MSK that Windows and
 * strongSwan derive from RFC 3079 §3: MasterReceiveKey | MasterSendKey |
 * 32 zero bytes, 64 in all, the same at both ends (the server's receive
 * key first, i.e. RFC 3079's keys "on the server side").
 *
 * The Type-Data (after the EAP Type octet 26) is
 *
 *	OpCode(1) MS-CHAPv2-ID(1) MS-Length(2) Value-Size(1) Value Name   Challenge, Response
 *	OpCode(1) MS-CHAPv2-ID(1) MS-Length(2) Message                    Success / Failure Request
 *	OpCode(1)                                                         Success / Failure Response
 *
 * with MS-Length the EAP Length minus 5, i.e. the Type-Data's length.
 *
 *	server                                        peer
 *	Challenge (16 random bytes, our name)   -->
 *	                                        <--   Response (peer challenge, NT-Response, name)
 *	Success Request "S=<40 hex> M=..."      -->   (checks S= in constant time)
 *	                                        <--   Success Response
 *	EAP-Success                             -->
 *
 * A wrong NT-Response gets a Failure Request "E=691 R=1 C=<new challenge>
 * V=3 M=..." while retries are left (RFC 2759 §6; Windows asks the user
 * again and answers with a new Response to the new challenge); after the
 * last, an EAP-Failure, or first a Failure Request with R=0 if so
 * configured. The peer never retries (its password is its configuration):
 * it answers any Failure Request with a Failure Response.
 *
 * MD4, DES and SHA-1 are mbedTLS 2.28's (MD4 left mbedTLS in 3.0).
 * Every key, hash and password copy is wiped after use.
 */
#ifndef TUNSEC_IKE_EAP_MSCHAPV2_H
#define TUNSEC_IKE_EAP_MSCHAPV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/eap.h"

#define MSCHAPV2_CHALLENGE_LEN   16 /* RFC 2759 §4: both challenges */
#define MSCHAPV2_NT_RESPONSE_LEN 24
#define MSCHAPV2_RESPONSE_LEN    49 /* Peer-Challenge, 8 reserved, NT-Response, Flags */
#define MSCHAPV2_AUTH_LEN        20 /* Authenticator Response: "S=" and 40 hex digits */
#define MSCHAPV2_NT_HASH_LEN     16
#define MSCHAPV2_MSK_LEN         64
/* RFC 2759 §8.1: "0-to-256-char UserName", "0-to-256-unicode-char Password" */
#define MSCHAPV2_NAME_MAX        256
#define MSCHAPV2_PASSWORD_MAX    256

enum {
	MSCHAPV2_OP_CHALLENGE = 1,
	MSCHAPV2_OP_RESPONSE = 2,
	MSCHAPV2_OP_SUCCESS = 3,
	MSCHAPV2_OP_FAILURE = 4,
	MSCHAPV2_OP_CHANGE_PASSWORD = 7, /* not supported */
};

/* RFC 2759 §6 (the error codes of RFC 2433) */
#define MSCHAPV2_ERROR_AUTHENTICATION_FAILURE 691

/* A user's secret: a password (UTF-8), or the NT hash of one (MD4 of its
 * UTF-16LE form, RFC 2759 §8.3) for servers that keep no passwords. */
struct eap_mschapv2_secret {
	bool nt_hash; /* data is the 16-byte NT hash */
	const uint8_t *data;
	size_t len;
};

/* The secret of the user name the peer sent (its Response's Name, as
 * sent, a Windows "DOMAIN\user" included): 0 with *sec filled (pointers
 * valid until the next call), or negative for an unknown user. */
typedef int (*eap_mschapv2_lookup_fn)(void *ctx, const uint8_t *name, size_t name_len,
                                      struct eap_mschapv2_secret *sec);
/* len unpredictable bytes into buf (crypto/rand.h's rand_bytes() in the
 * daemon, a fixed sequence in tests). */
typedef void (*eap_mschapv2_rand_fn)(void *ctx, uint8_t *buf, size_t len);

struct eap_mschapv2_server_cfg {
	eap_mschapv2_lookup_fn lookup;
	void *lookup_ctx;
	eap_mschapv2_rand_fn rand;
	void *rand_ctx;
	/* The Name in our Challenge (RFC 2759 §3); NULL: "tunsec". */
	const char *name;
	/* Failure Requests with R=1 (another try) before giving up;
	 * strongSwan allows 2. */
	unsigned retries;
	/* After the last wrong answer, a Failure Request with R=0 first
	 * (RFC 2759 §6; the peer answers with a Failure Response), rather
	 * than EAP-Failure at once as strongSwan does, because Windows 7
	 * never answers the R=0 request. */
	bool final_r0;
};

enum eap_mschapv2_state {
	MSCHAPV2_S_START,        /* server: nothing sent; peer: awaiting Challenge */
	MSCHAPV2_S_RESPONSE,     /* server: Challenge (or R=1 Failure) sent */
	MSCHAPV2_S_SUCCESS,      /* server: Success Request sent; peer: Response sent */
	MSCHAPV2_S_FAILURE,      /* server: R=0 Failure Request sent */
	MSCHAPV2_S_DONE_OK,
	MSCHAPV2_S_DONE_FAIL,
};

/* One end's state; wipe with eap_mschapv2_wipe(). */
struct eap_mschapv2 {
	bool server;
	enum eap_mschapv2_state state;
	struct eap_mschapv2_server_cfg cfg; /* server */
	uint8_t ms_id;                       /* MS-CHAPv2-ID of our last Request / theirs */
	unsigned failures;                   /* server: wrong answers so far */
	int error;                           /* peer: E= of a Failure Request, or 0 */
	uint8_t auth_challenge[MSCHAPV2_CHALLENGE_LEN];
	uint8_t nt_hash[MSCHAPV2_NT_HASH_LEN]; /* peer */
	uint8_t auth_response[MSCHAPV2_AUTH_LEN];
	uint8_t msk[MSCHAPV2_MSK_LEN];
	eap_mschapv2_rand_fn rand;           /* peer */
	void *rand_ctx;
	/* peer: our user name; server: the name the peer authenticated as */
	uint8_t name[MSCHAPV2_NAME_MAX];
	size_t name_len;
};

/* The method; st is a struct eap_mschapv2 set up by one of the two. */
extern const struct eap_method_ops eap_mschapv2_ops;

/* A server. IKE_ERR_INVAL: no lookup or rand, or a name over 256 bytes. */
int eap_mschapv2_server_init(struct eap_mschapv2 *m, const struct eap_mschapv2_server_cfg *cfg);

/* A peer named name (what goes into the Response, domain included) with
 * secret. IKE_ERR_INVAL: name over MSCHAPV2_NAME_MAX bytes, a password
 * that is not UTF-8 or longer than MSCHAPV2_PASSWORD_MAX UTF-16 units, an
 * NT hash not 16 bytes, no rand. */
int eap_mschapv2_peer_init(struct eap_mschapv2 *m, const uint8_t *name, size_t name_len,
                           const struct eap_mschapv2_secret *secret, eap_mschapv2_rand_fn rand,
                           void *rand_ctx);

/* Wipe every key and hash m holds. */
void eap_mschapv2_wipe(struct eap_mschapv2 *m);

/* The server's verified user (the Name of the accepted Response). */
const uint8_t *eap_mschapv2_name(const struct eap_mschapv2 *m, size_t *len);
/* The Name the peer's Response claimed, verified or not (len 0: none
 * came): for a log line saying who failed, never for a decision. */
const uint8_t *eap_mschapv2_claimed_name(const struct eap_mschapv2 *m, size_t *len);

/* ---- RFC 2759 §8 and RFC 3079 §3, for tests and for NT-hash tooling ------- */

/* NtPasswordHash (§8.3) of a UTF-8 password: 0, or IKE_ERR_INVAL (not
 * UTF-8, more than MSCHAPV2_PASSWORD_MAX UTF-16 units). */
int eap_mschapv2_nt_hash(const uint8_t *password, size_t len,
                         uint8_t hash[static MSCHAPV2_NT_HASH_LEN]);

/* The NT hash of a secret in either form: 0 or IKE_ERR_INVAL. */
int eap_mschapv2_secret_hash(const struct eap_mschapv2_secret *sec,
                             uint8_t hash[static MSCHAPV2_NT_HASH_LEN]);

/* ChallengeHash (§8.2): name as sent; a "DOMAIN\" prefix is left out, as
 * §8.2 says. */
void eap_mschapv2_challenge_hash(const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                 const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                 const uint8_t *name, size_t name_len, uint8_t out[static 8]);

/* GenerateNTResponse (§8.1) from the NT hash. */
void eap_mschapv2_nt_response(const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                              const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                              const uint8_t *name, size_t name_len,
                              const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                              uint8_t out[static MSCHAPV2_NT_RESPONSE_LEN]);

/* GenerateAuthenticatorResponse (§8.7), the 20 bytes behind "S=". */
void eap_mschapv2_auth_response(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                                const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                                const uint8_t peer_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                const uint8_t auth_challenge[static MSCHAPV2_CHALLENGE_LEN],
                                const uint8_t *name, size_t name_len,
                                uint8_t out[static MSCHAPV2_AUTH_LEN]);

/* RFC 3079 §3.4 GetMasterKey, from the NT hash (hashed again inside). */
void eap_mschapv2_master_key(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                             const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                             uint8_t out[static 16]);

/* The 64-byte MSK (see the top of this file). */
void eap_mschapv2_derive_msk(const uint8_t nt_hash[static MSCHAPV2_NT_HASH_LEN],
                             const uint8_t nt_response[static MSCHAPV2_NT_RESPONSE_LEN],
                             uint8_t msk[static MSCHAPV2_MSK_LEN]);

#endif
