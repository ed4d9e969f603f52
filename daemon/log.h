/*
 * Logging to stderr, one line per event, with a level. Nothing on the
 * per-packet path logs above debug, and no caller ever passes key material.
 */
#ifndef TUNSEC_DAEMON_LOG_H
#define TUNSEC_DAEMON_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
int log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rate limit for lines an unauthenticated peer can cause (one per
 * datagram otherwise): at most `burst` lines per second. log_limit_ok()
 * says whether a line may go now; when it may, *suppressed holds how many
 * were held back since the last one, for the line to say so ("and N more
 * not logged"), so that nothing is silently lost.
 */
struct log_limit {
	uint64_t window; /* start of the current second (ns) */
	unsigned n;      /* lines in it */
	uint64_t held;   /* lines not logged since the last one */
};

int log_limit_ok(struct log_limit *l, uint64_t now_ns, unsigned burst, uint64_t *suppressed);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
