#include "schedule_expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct field {
	int lo, hi;
	const char *const *names; /* index + lo is the value */
	size_t nnames;
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* day-of-week accepts 7 for Sunday, as cron does; folded onto 0 after parsing */
static const struct field fields[5] = {
    {0, 59, NULL, 0},	      {0, 23, NULL, 0},	    {1, 31, NULL, 0},
    {1, 12, month_names, 12}, {0, 7, day_names, 7},
};

static const struct {
	const char *name;
	const char *expr;
} macros[] = {
    {"@hourly", "0 * * * *"},	{"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},	{"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

/* A number or (where the field has them) a three-letter name; the end of it in *end. */
static int parse_value(const struct field *f, const char *s, const char **end)
{
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s) && v <= 1000)
			v = v * 10 + (*s++ - '0');
		*end = s;
		return v >= f->lo && v <= f->hi ? (int)v : -1;
	}
	for (size_t i = 0; i < f->nnames; i++)
		if (!strncasecmp(s, f->names[i], 3) && !isalpha((unsigned char)s[3])) {
			*end = s + 3;
			return f->lo + (int)i;
		}
	return -1;
}

/* One comma-separated item: *, N, N-M, each optionally /STEP (N/STEP is N-max/STEP). */
static int parse_item(const struct field *f, const char *s, const char *stop, uint64_t *bits)
{
	int lo, hi;
	const char *p = s;
	bool range = false;
	if (*p == '*') {
		lo = f->lo, hi = f->hi, p++, range = true;
	} else {
		if ((lo = parse_value(f, p, &p)) < 0)
			return -1;
		hi = lo;
		if (*p == '-') {
			if ((hi = parse_value(f, p + 1, &p)) < 0 || hi < lo)
				return -1;
			range = true;
		}
	}
	int step = 1;
	if (*p == '/') {
		long v = 0;
		const char *d = ++p;
		while (p < stop && isdigit((unsigned char)*p) && v <= 1000)
			v = v * 10 + (*p++ - '0');
		if (p == d || v < 1 || v > f->hi - f->lo + 1)
			return -1;
		step = (int)v;
		if (!range)
			hi = f->hi;
	}
	if (p != stop)
		return -1;
	for (int v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int parse_field(const struct field *f, const char *s, size_t len, uint64_t *bits)
{
	const char *end = s + len;
	*bits = 0;
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		if (stop == s || parse_item(f, s, stop, bits) < 0)
			return -1;
		s = comma ? comma + 1 : end;
		if (comma && s == end)
			return -1;
	}
	return 0;
}

/* 30s, 5m, 1h30m, 1d: one or more NUMBER UNIT pairs */
static long long parse_every(const char *s)
{
	long long total = 0;
	if (!*s)
		return -1;
	while (*s) {
		long long n = 0;
		const char *d = s;
		while (isdigit((unsigned char)*s) && n <= SCHEDULE_EVERY_MAX)
			n = n * 10 + (*s++ - '0');
		if (s == d)
			return -1;
		long long unit = *s == 's'   ? 1
				 : *s == 'm' ? 60
				 : *s == 'h' ? 3600
				 : *s == 'd' ? 86400
					     : 0;
		if (!unit)
			return -1;
		s++;
		total += n * unit;
		if (total > SCHEDULE_EVERY_MAX)
			return -1;
	}
	return total;
}

int schedule_parse(const char *s, struct schedule_expr *e, const char **why)
{
	memset(e, 0, sizeof(*e));
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	if (!strncasecmp(s, "@every", 6) && isspace((unsigned char)s[6])) {
		const char *d = s + 6;
		while (isspace((unsigned char)*d))
			d++;
		char buf[64];
		size_t n = strcspn(d, " \t");
		if (n >= sizeof(buf) || d[n + strspn(d + n, " \t")]) {
			*why = "is not @every DURATION (30s, 5m, 1h30m)";
			return -1;
		}
		memcpy(buf, d, n);
		buf[n] = '\0';
		long long secs = parse_every(buf);
		if (secs < SCHEDULE_EVERY_MIN || secs > SCHEDULE_EVERY_MAX) {
			*why = "is not @every DURATION from 1s to 366d (30s, 5m, 1h30m)";
			return -1;
		}
		e->set = true;
		e->every = secs;
		return 0;
	}
	if (*s == '@') {
		size_t n = strcspn(s, " \t");
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strlen(macros[i].name) == n && !strncasecmp(s, macros[i].name, n) &&
			    !s[n + strspn(s + n, " \t")])
				return schedule_parse(macros[i].expr, e, why);
		*why = "is not one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, "
		       "@annually, @every DURATION";
		return -1;
	}
	uint64_t bits[5];
	bool star[5];
	for (int i = 0; i < 5; i++) {
		while (isspace((unsigned char)*s))
			s++;
		size_t n = strcspn(s, " \t");
		if (n == 0) {
			*why =
			    "does not have 5 fields (minute hour day-of-month month day-of-week)";
			return -1;
		}
		if (parse_field(&fields[i], s, n, &bits[i]) < 0) {
			static const char *const bad[] = {
			    "has a bad minute field (0-59)", "has a bad hour field (0-23)",
			    "has a bad day-of-month field (1-31)",
			    "has a bad month field (1-12 or jan-dec)",
			    "has a bad day-of-week field (0-7 or sun-sat)"};
			*why = bad[i];
			return -1;
		}
		star[i] = *s == '*';
		s += n;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s) {
		*why = "has more than 5 fields (minute hour day-of-month month day-of-week)";
		return -1;
	}
	e->set = true;
	e->minute = bits[0];
	e->hour = (uint32_t)bits[1];
	e->mday = (uint32_t)bits[2];
	e->month = (uint16_t)bits[3];
	e->wday = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
	e->mday_star = star[2];
	e->wday_star = star[4];
	return 0;
}

static bool day_matches(const struct schedule_expr *e, const struct tm *tm)
{
	bool md = e->mday >> tm->tm_mday & 1, wd = e->wday >> tm->tm_wday & 1;
	/* cron: when both day fields are restricted, either one matching is enough */
	if (!e->mday_star && !e->wday_star)
		return md || wd;
	return md && wd;
}

/* Calendar arithmetic on local fields, with no zone in it: carries tm_min into the hour, day,
 * month and year, and sets tm_wday. */
static void normalize(struct tm *tm)
{
	time_t t = timegm(tm);
	gmtime_r(&t, tm);
}

static bool same_minute(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon && a->tm_mday == b->tm_mday &&
	       a->tm_hour == b->tm_hour && a->tm_min == b->tm_min;
}

/* The first instant a local date and time names in the current zone: the earlier of the two in
 * autumn's repeated hour, -1 for a time spring's change skips. */
static time_t first_instant(const struct tm *want, bool utc)
{
	if (utc) {
		struct tm tm = *want;
		return timegm(&tm);
	}
	time_t best = -1;
	for (int dst = -1; dst <= 1; dst++) {
		struct tm tm = *want, back;
		tm.tm_isdst = dst;
		time_t t = mktime(&tm);
		if (t != -1 && localtime_r(&t, &back) && same_minute(&back, want) &&
		    (best < 0 || t < best))
			best = t;
	}
	return best;
}

/* Walks local dates and times (not instants) forward, so that each local time is met once:
 * one that does not exist (spring) does not run, one that exists twice (autumn) runs at its
 * first instant only, as cron does. */
static time_t next_local(const struct schedule_expr *e, time_t after, bool utc)
{
	struct tm tm;
	if (!(utc ? gmtime_r(&after, &tm) : localtime_r(&after, &tm)))
		return -1;
	tm.tm_sec = 0;
	tm.tm_min++;
	normalize(&tm);
	/* each step moves to the next month, day, hour or minute that may match; 28 years hold
	 * every combination of leap year and weekday */
	for (int steps = 0; steps < 28 * 366 * 3; steps++) {
		if (!(e->month >> (tm.tm_mon + 1) & 1)) {
			tm.tm_mon++, tm.tm_mday = 1, tm.tm_hour = 0, tm.tm_min = 0;
		} else if (!day_matches(e, &tm)) {
			tm.tm_mday++, tm.tm_hour = 0, tm.tm_min = 0;
		} else if (!(e->hour >> tm.tm_hour & 1)) {
			tm.tm_hour++, tm.tm_min = 0;
		} else if (!(e->minute >> tm.tm_min & 1)) {
			int m = tm.tm_min;
			while (m < 60 && !(e->minute >> m & 1))
				m++;
			if (m == 60)
				tm.tm_hour++, tm.tm_min = 0;
			else
				tm.tm_min = m;
		} else {
			time_t t = first_instant(&tm, utc);
			if (t > after)
				return t;
			tm.tm_min++;
		}
		normalize(&tm);
	}
	return -1;
}

extern char **environ;

/* Local time in another zone: the C library knows only the one TZ names, so for the length
 * of one computation environ is swapped for a copy whose TZ names the zone, and tzset() reads
 * that zone's file; zone_leave() puts environ back and tzset() the process's zone, before
 * anything else runs on this thread. setenv() is not used: it would leave TZ in the
 * environment programs inherit, and may move environ under the resolver thread's getenv(). */
struct zone_switch {
	char **saved, **env;
	char tz[SCHEDULE_ZONE_MAX + 8];
	char *only_tz[2];
};

static void zone_enter(struct zone_switch *z, const char *zone)
{
	size_t n = 0;
	snprintf(z->tz, sizeof(z->tz), "TZ=:%s", zone);
	z->saved = environ;
	while (environ && environ[n])
		n++;
	z->env = malloc((n + 2) * sizeof(char *));
	if (z->env) {
		size_t k = 0;
		z->env[k++] = z->tz;
		for (size_t i = 0; i < n; i++)
			if (strncmp(environ[i], "TZ=", 3))
				z->env[k++] = environ[i];
		z->env[k] = NULL;
		environ = z->env;
	} else {
		/* without memory for a copy, the other variables are missing for that time */
		z->only_tz[0] = z->tz;
		z->only_tz[1] = NULL;
		environ = z->only_tz;
	}
	tzset();
}

static void zone_leave(struct zone_switch *z)
{
	environ = z->saved;
	free(z->env);
	tzset();
}

static bool is_utc(const char *zone)
{
	return zone && (!strcmp(zone, "UTC") || !strcmp(zone, "Etc/UTC"));
}

time_t schedule_next(const struct schedule_expr *e, time_t after, const char *zone)
{
	if (!e->set)
		return -1;
	if (e->every)
		return after + e->every;
	if (!zone || is_utc(zone))
		return next_local(e, after, is_utc(zone));
	struct zone_switch z;
	zone_enter(&z, zone);
	time_t t = next_local(e, after, false);
	zone_leave(&z);
	return t;
}

void schedule_format(time_t t, const char *zone, const char *fmt, char *buf, size_t n)
{
	struct zone_switch z;
	struct tm tm;
	if (zone && !is_utc(zone))
		zone_enter(&z, zone);
	if (is_utc(zone) ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) {
		if (is_utc(zone))
			tm.tm_zone = "UTC"; /* gmtime's is GMT */
		if (!strftime(buf, n, fmt, &tm) && n)
			buf[0] = '\0';
	} else if (n) {
		buf[0] = '\0';
	}
	if (zone && !is_utc(zone))
		zone_leave(&z);
}

static bool zone_name_ok(const char *s)
{
	if (!*s || *s == '/' || *s == '.' || strstr(s, "..") || strlen(s) > SCHEDULE_ZONE_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/_+-.", *s))
			return false;
	return true;
}

int schedule_zone_check(const char *zone)
{
	if (!zone_name_ok(zone))
		return -1;
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	FILE *f = fopen(path, "rbe");
	if (!f)
		return -1;
	bool ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
	fclose(f);
	return ok ? 0 : -1;
}
