/*
 * A log file, the main log's or a program's: opened for appending, written in whole writes (the
 * main log's lines, a program's chunks as read), rotated before a write would pass maxbytes
 * (keeping backups as path.1 ... path.N), reopened on SIGUSR2. A write that fails (a full disk) or
 * a file that cannot be opened (its directory removed) is said once, costs only the lines it drops,
 * and is retried: once a second for an open, at every write for a full disk; that it works again is
 * said once it has worked for a second. A log file removed under it is opened anew.
 */
#ifndef PIDVISOR_LOGFILE_H
#define PIDVISOR_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>

struct logfile {
	char *path;
	int fd; /* -1 while it cannot be opened */
	long long size;
	long long maxbytes; /* 0: never rotate */
	long long backups;
	bool main; /* pidvisor's own log: its problems are told elsewhere (mainlog.h) */
	bool failing;
	unsigned long long lost; /* bytes dropped since it started failing */
	double next_check;	 /* monotonic time of the next open retry or removal check */
	double failed_at;	 /* monotonic time of the last failure */
};

/* 0, or -1 with errno, saying nothing (start-up decides); later writes retry it. */
int logfile_open(struct logfile *lf);
/* logfile_open, and a failure is said once. */
int logfile_start(struct logfile *lf);
void logfile_write(struct logfile *lf, const char *p, size_t n);
/* SIGUSR2: close and open again (logrotate moved the file away). */
int logfile_reopen(struct logfile *lf);
void logfile_close(struct logfile *lf);

#endif
