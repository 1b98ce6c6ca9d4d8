/*
 * noclock_shim.so - an LD_PRELOAD layer for the real peer daemons of the tests.
 *
 * Why: OpenNTPD reports "clock now synced" (and serves leap 0) only after its
 * adjtime()/adjtimex() calls succeed. The tests run every peer without
 * CAP_SYS_TIME, so those calls fail with EPERM and OpenNTPD would answer
 * "unsynchronised" forever. This shim answers clock *writes* as if they had
 * worked, while the kernel clock is never touched.
 *
 * It is a convenience on top of the real guard, never a replacement: the
 * peers still run under `setpriv --bounding-set=-sys_time --inh-caps=-sys_time`,
 * so a call that slips past the shim (static binaries, raw syscalls) fails.
 *
 *   adjtime(delta, old)           -> 0, *old = 0, nothing changed
 *   adjtimex / ntp_adjtime /
 *   clock_adjtime (any write)     -> the current state, read with modes = 0
 *   clock_settime / settimeofday  -> passed to the kernel (and fail with EPERM),
 *                                    unless NOCLOCK_SHIM_FAKE_STEP=1: then 0
 *                                    without any system call (records a client's
 *                                    "stepped" path)
 *   NOCLOCK_SHIM_LOG=1            -> one line on stderr per intercepted write
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

/* adjtime(NULL, &old) in glibc becomes this mode: it only reads. */
#define MODES_READ_ONLY_OFFSET ADJ_OFFSET_SS_READ

static int env_set(const char *name) {
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static void note(const char *what, long a, long b) {
    if (env_set("NOCLOCK_SHIM_LOG"))
        fprintf(stderr, "noclock_shim: %s (%ld, %ld) not applied\n", what, a, b);
}

static int is_read_only(const struct timex *tx) {
    return tx == NULL || tx->modes == 0 || tx->modes == MODES_READ_ONLY_OFFSET;
}

/* Reads the kernel's clock state; the caller's buffer gets the current values,
 * exactly what a successful write of "the same state" would have returned. */
static int current_state(clockid_t clock, struct timex *tx) {
    struct timex now;
    memset(&now, 0, sizeof now); /* modes = 0: read only */
    int state = (int)syscall(SYS_clock_adjtime, clock, &now);
    if (state >= 0 && tx != NULL)
        *tx = now;
    return state;
}

int clock_adjtime(clockid_t clock, struct timex *tx) {
    if (is_read_only(tx))
        return (int)syscall(SYS_clock_adjtime, clock, tx);
    note("clock_adjtime write, modes", (long)tx->modes, (long)clock);
    return current_state(clock, tx);
}

int adjtimex(struct timex *tx) { return clock_adjtime(CLOCK_REALTIME, tx); }
int __adjtimex(struct timex *tx) { return clock_adjtime(CLOCK_REALTIME, tx); }
int ntp_adjtime(struct timex *tx) { return clock_adjtime(CLOCK_REALTIME, tx); }

int adjtime(const struct timeval *delta, struct timeval *olddelta) {
    if (delta != NULL)
        note("adjtime", (long)delta->tv_sec, (long)delta->tv_usec);
    if (olddelta != NULL) {
        olddelta->tv_sec = 0;
        olddelta->tv_usec = 0;
    }
    return 0;
}

int clock_settime(clockid_t clock, const struct timespec *tp) {
    if (env_set("NOCLOCK_SHIM_FAKE_STEP")) {
        note("clock_settime", (long)tp->tv_sec, tp->tv_nsec);
        return 0;
    }
    return (int)syscall(SYS_clock_settime, clock, tp);
}

int settimeofday(const struct timeval *tv, const struct timezone *tz) {
    if (env_set("NOCLOCK_SHIM_FAKE_STEP")) {
        note("settimeofday", tv ? (long)tv->tv_sec : 0, tv ? (long)tv->tv_usec : 0);
        return 0;
    }
    return (int)syscall(SYS_settimeofday, tv, tz);
}
