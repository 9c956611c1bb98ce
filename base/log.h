/*
 * log.h: per-instance logging through the host's mxrtc_logger.
 *
 * Lines above the logger's max_level are not formatted at all, so per-packet
 * trace lines cost one comparison when tracing is off. Never pass addresses,
 * credentials or Matrix IDs at INFO or above unredacted (see mxrtc_redact()).
 */
#ifndef MXRTC_BASE_LOG_H
#define MXRTC_BASE_LOG_H

#include "mxrtc.h"

#if defined(__GNUC__)
#  define MXRTC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define MXRTC_PRINTF(f, a)
#endif

/* Longest line handed to the callback; longer ones are cut. */
#define MXRTC_LOG_LINE_MAX 512

void mxrtc_log_emit(const mxrtc_logger *lg, mxrtc_log_level level, const char *module,
                    const char *fmt, ...) MXRTC_PRINTF(4, 5);

static inline int mxrtc_log_enabled(const mxrtc_logger *lg, mxrtc_log_level level) {
    return lg && lg->fn && level <= lg->max_level;
}

#define MXRTC_LOG(lg, level, module, ...)                         \
    do {                                                          \
        if (mxrtc_log_enabled((lg), (level)))                     \
            mxrtc_log_emit((lg), (level), (module), __VA_ARGS__); \
    } while (0)

#define MXRTC_LOGE(lg, m, ...) MXRTC_LOG(lg, MXRTC_LOG_ERROR, m, __VA_ARGS__)
#define MXRTC_LOGW(lg, m, ...) MXRTC_LOG(lg, MXRTC_LOG_WARN, m, __VA_ARGS__)
#define MXRTC_LOGI(lg, m, ...) MXRTC_LOG(lg, MXRTC_LOG_INFO, m, __VA_ARGS__)
#define MXRTC_LOGD(lg, m, ...) MXRTC_LOG(lg, MXRTC_LOG_DEBUG, m, __VA_ARGS__)
#define MXRTC_LOGT(lg, m, ...) MXRTC_LOG(lg, MXRTC_LOG_TRACE, m, __VA_ARGS__)

/* Formats an address for a log line at `level`: in full at DEBUG and TRACE,
 * as "<v4 addr>"/"<v6 addr>" (family only) above, so INFO logs carry no
 * addresses. Returns buf. */
const char *mxrtc_log_addr(const mxrtc_logger *lg, mxrtc_log_level level,
                           const mxrtc_addr *a, char buf[MXRTC_ADDR_STRLEN]);

#endif
