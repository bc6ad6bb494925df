/* Program and [supervisord] values checked by pidvisor's own config loader, as lint findings. */
#ifndef PIDVISOR_IMAGE_CONFCHECK_H
#define PIDVISOR_IMAGE_CONFCHECK_H

#include "diag.h"
#include "stack.h"

/* For every chain of a resolved stack: config_load()'s messages, at the stack file's lines. Keys
 * whose check depends on this machine (user, log file paths, directory) are left out. */
void check_program_values(const struct stack *st, struct diag *d);

#endif
