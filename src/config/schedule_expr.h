/*
 * The `schedule` key: a 5-field cron expression (minute hour day-of-month month day-of-week),
 * one of cron's @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, or
 * `@every DURATION` (30s, 5m, 1h30m). No clock, no event loop: schedule_next() takes the time
 * to compute from, and the zone to compute in.
 */
#ifndef PIDVISOR_SCHEDULE_EXPR_H
#define PIDVISOR_SCHEDULE_EXPR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SCHEDULE_EVERY_MIN 1LL		   /* seconds */
#define SCHEDULE_EVERY_MAX (366LL * 86400) /* seconds */

struct schedule_expr {
	bool set;
	long long every; /* @every: seconds; 0: a cron expression */
	uint64_t minute; /* bit n: minute n matches */
	uint32_t hour;
	uint32_t mday;	/* bits 1..31 */
	uint16_t month; /* bits 1..12 */
	uint8_t wday;	/* bits 0..6, 0 = Sunday */
	bool mday_star; /* the field began with '*': cron's rule on the two day fields */
	bool wday_star;
};

/* 0, or -1 with *why a static phrase (the part after "schedule: 'VALUE' "). */
int schedule_parse(const char *s, struct schedule_expr *e, const char **why);

#define SCHEDULE_ZONE_MAX 128 /* bytes of a schedule_timezone name */

/* The first due time strictly after `after`: for a cron expression the first matching minute
 * in `zone` (an IANA name; NULL: the process's local time, TZ or /etc/localtime); for @every,
 * after + every. A local time spring's change skips does not run; one autumn repeats runs at
 * its first instant only. -1 when none within 28 years (only 30 and 31 February never match:
 * the parser rejects none, cron neither). */
time_t schedule_next(const struct schedule_expr *e, time_t after, const char *zone);

/* strftime() of t in `zone` (NULL: local time); "" when it does not fit. */
void schedule_format(time_t t, const char *zone, const char *fmt, char *buf, size_t n);

/* 0 when zone names a TZif file under TZDIR or /usr/share/zoneinfo, else -1. Reads the file's
 * first bytes: for the config loader, not the event loop. */
int schedule_zone_check(const char *zone);

#endif
