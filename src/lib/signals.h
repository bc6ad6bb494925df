/* The one table of signal names. */
#ifndef PIDVISOR_SIGNALS_H
#define PIDVISOR_SIGNALS_H

/* "TERM", "SIGTERM", "term" or "15" -> 15; -1 if unknown. */
int signal_parse(const char *s);
/* 15 -> "TERM"; NULL if unknown. */
const char *signal_name(int sig);

#endif
