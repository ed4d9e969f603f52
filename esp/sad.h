/*
 * Security Association Database.
 *
 * Inbound: by SPI, an open-addressing hash table: O(1) for any number of
 * SAs. Outbound: by inner destination address, longest prefix over the
 * outbound SAs' remote selectors (a binary trie per family, so a lookup costs
 * at most 32 or 128 steps whatever the number of SAs). Selectors that are not
 * one CIDR block are entered as the CIDR blocks that cover them exactly.
 *
 * The SAD does not own SAs: it holds pointers; remove an SA before
 * destroying it. Not thread-safe for writers: the control plane changes it
 * while the data plane is between batches (single loop today; an RCU-style
 * swap when workers come).
 */
#ifndef TUNSEC_ESP_SAD_H
#define TUNSEC_ESP_SAD_H

#include <stddef.h>
#include <stdint.h>

struct esp_sa;
struct sad;

struct sad *sad_new(void);
void sad_free(struct sad *s); /* does not touch the SAs */

/* Inbound SA by its SPI. -EEXIST if the SPI is taken, -ENOMEM. */
int sad_add_in(struct sad *s, struct esp_sa *sa);
/* Outbound SA under each of its remote selectors. -ENOMEM. A later SA with
 * the same prefix replaces the earlier one (make-before-break on rekey). */
int sad_add_out(struct sad *s, struct esp_sa *sa);
/* Remove sa wherever it is entered; a no-op if it is not. */
void sad_remove(struct sad *s, struct esp_sa *sa);

struct esp_sa *sad_lookup_in(const struct sad *s, uint32_t spi);
/* family AF_INET/AF_INET6, addr in network order (4 or 16 bytes). */
struct esp_sa *sad_lookup_out(const struct sad *s, int family, const uint8_t *addr);

/* Call fn for every SA entered (each once). */
void sad_foreach(const struct sad *s, void (*fn)(struct esp_sa *sa, void *arg), void *arg);
size_t sad_count(const struct sad *s);

#endif
