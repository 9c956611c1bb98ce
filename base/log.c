#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

void mxrtc_log_emit(const mxrtc_logger *lg, mxrtc_log_level level, const char *module,
                    const char *fmt, ...) {
    if (!mxrtc_log_enabled(lg, level)) return;
    char line[MXRTC_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    lg->fn(lg->user, level, module ? module : "mxrtc", line);
}

const char *mxrtc_log_addr(const mxrtc_logger *lg, mxrtc_log_level level,
                           const mxrtc_addr *a, char buf[MXRTC_ADDR_STRLEN]) {
    (void)lg;
    if (level >= MXRTC_LOG_DEBUG) {
        if (mxrtc_addr_format(a, buf, MXRTC_ADDR_STRLEN) < 0) snprintf(buf, MXRTC_ADDR_STRLEN, "<addr>");
    } else {
        snprintf(buf, MXRTC_ADDR_STRLEN, "%s",
                 a->family == MXRTC_AF_INET6 ? "<v6 addr>" : "<v4 addr>");
    }
    return buf;
}
