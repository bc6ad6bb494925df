/*
 * Parsers for supervisord's value types. Each returns 0 on success, or -1 with *why set to a
 * static phrase or a malloc'd sentence (see each) that completes "KEY: ".
 */
#ifndef PIDVISOR_VALUES_H
#define PIDVISOR_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

int parse_bool(const char *s, bool *out);
int parse_int(const char *s, long long min, long long max, long long *out);
int parse_size(const char *s, long long *out); /* N[KB|MB|GB], 1024-based */
int parse_octal(const char *s, int *out);
int parse_signal(const char *s, int *out);
/* exit codes as a 256-bit set */
struct exitcodes {
	uint64_t bits[4];
};
int parse_exitcodes(const char *s, struct exitcodes *out);
bool exitcodes_has(const struct exitcodes *ec, int code);
/* KEY=val,K2="v 2",K3='a,b' -> "KEY=val" strings. *why is malloc'd. */
/* An env file's text (KEY=value lines, `#` comments, blank lines, an optional `export `, values
 * in single or double quotes) appended to out as KEY=VALUE. 0; or -1 with *why (malloc'd) and
 * *line the line at fault. */
int parse_envfile(const char *text, size_t len, struct strvec *out, int *line, char **why);
/* supervisord's environment= (KEY=val,K2="v 2"): 0, also with *why set (malloc'd) when a #
 * comment dropped text, a warning; or -1 with *why. */
int parse_environment(const char *s, struct strvec *out, char **why);
/* POSIX shell-like split (no expansion). *why is malloc'd. */
int split_command(const char *s, struct strvec *out, char **why);
/* Program, group and process names: no whitespace, ':' or '/'. */
bool valid_name(const char *s);

#endif
