#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

int log_enabled(enum log_level lvl)
{
	return lvl <= level;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld tunsecd %s: ", when, ts.tv_nsec / 1000000, names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int log_limit_ok(struct log_limit *l, uint64_t now_ns, unsigned burst, uint64_t *suppressed)
{
	if (now_ns - l->window >= 1000000000ULL || now_ns < l->window) {
		l->window = now_ns;
		l->n = 0;
	}
	if (l->n >= burst) {
		l->held++;
		return 0;
	}
	l->n++;
	*suppressed = l->held;
	l->held = 0;
	return 1;
}
