/*
 * media.h: media files and test signals for the `mxrtc` command (libmxrtc_media.a,
 * beside the core; not part of libmxrtc). What `mxrtc peer` sends and records:
 *
 *   WAV  (wav.c)     PCM 16-bit little-endian, 48 kHz, mono or stereo.
 *   Y4M  (y4m.c)     YUV4MPEG2, I420 (C420*) progressive only.
 *   IVF  (ivf.c)     the VP8/VP9 frame container of libvpx's tools.
 *   tone (tone.c)    a sine generator; detect.c finds a tone's frequency.
 *   pattern (pattern.c) a solid-colour or moving-bar I420 picture, and the
 *                    mean colour of a received I420 picture.
 *
 * The parsers work on bytes in memory (the fuzz targets feed them) and the
 * file readers/writers are thin layers over them. Parsers never read past
 * the buffer they are given, bound every length the file declares, and
 * return MXRTC_ERR_TRUNCATED (the input ends before a length it declares),
 * MXRTC_ERR_MALFORMED (not the format), MXRTC_ERR_UNSUPPORTED (the format,
 * but a variant we do not handle) or MXRTC_ERR_LIMIT (a size over our bound).
 * File functions add MXRTC_ERR_IO. Nothing here is thread-safe; one object,
 * one thread.
 */
#ifndef MXRTC_TOOLS_MEDIA_H
#define MXRTC_TOOLS_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mxrtc.h"

/* ======================================================================== WAV */

#define MXRTC_WAV_RATE 48000u        /* the only rate we take: Opus runs at 48 kHz */
#define MXRTC_WAV_MAX_CHUNKS 64u     /* chunks walked before giving up on finding "data" */
#define MXRTC_WAV_HEADER_LEN 44u     /* what our writer puts before the samples */

typedef struct mxrtc_wav_info {
    unsigned channels;               /* 1 or 2 */
    unsigned sample_rate;            /* MXRTC_WAV_RATE */
    size_t data_offset;              /* where the samples start */
    uint64_t data_bytes;             /* declared length of the data chunk; UINT32_MAX: "until end of file" */
    size_t data_avail;               /* bytes of it present in the parsed buffer */
} mxrtc_wav_info;

/* Parses a RIFF/WAVE header from buf (borrowed): walks at most
 * MXRTC_WAV_MAX_CHUNKS chunks (odd sizes padded, RIFF) to the "fmt " chunk
 * and then to "data", which may extend past len (a header prefix of a file
 * is enough). Accepts format 1 (PCM), or WAVE_FORMAT_EXTENSIBLE with the PCM
 * subformat, 16 bits, 48000 Hz, 1 or 2 channels, block align channels*2.
 * Errors: TRUNCATED (ends inside a header or before "data"), MALFORMED (not
 * RIFF/WAVE, fmt too short, inconsistent block align or byte rate, data
 * before fmt), UNSUPPORTED (other encodings, widths, rates, channel counts),
 * LIMIT (more chunks than the bound). */
int mxrtc_wav_parse(const uint8_t *buf, size_t len, mxrtc_wav_info *out);

/* Writes our canonical 44-byte header for `data_bytes` bytes of 16-bit PCM at
 * 48 kHz into out. INVALID_ARGUMENT for channels not 1/2 or a size over the
 * RIFF limit. */
int mxrtc_wav_write_header(uint8_t out[MXRTC_WAV_HEADER_LEN], unsigned channels, uint32_t data_bytes);

/* A WAV file open for reading samples. */
typedef struct mxrtc_wav_reader {
    FILE *f;
    mxrtc_wav_info info;
    uint64_t left;                   /* data bytes not yet read */
} mxrtc_wav_reader;

/* Opens path and parses its header (from the first 64 KiB). The data length
 * is clamped to the file's size. Errors: those of mxrtc_wav_parse, IO. */
int mxrtc_wav_reader_open(mxrtc_wav_reader *r, const char *path);
/* Reads up to `frames` frames (one int16 per channel, interleaved, host order)
 * into pcm. Returns the number of frames read (0 at the end) or IO. */
int mxrtc_wav_reader_read(mxrtc_wav_reader *r, int16_t *pcm, size_t frames);
void mxrtc_wav_reader_close(mxrtc_wav_reader *r);

typedef struct mxrtc_wav_writer {
    FILE *f;
    unsigned channels;
    uint64_t data_bytes;
} mxrtc_wav_writer;

/* Creates path with a provisional header; close patches the sizes in.
 * Errors: INVALID_ARGUMENT, IO. */
int mxrtc_wav_writer_open(mxrtc_wav_writer *w, const char *path, unsigned channels);
/* Appends frames of interleaved host-order int16. LIMIT when the file would
 * pass the 4 GiB RIFF limit; IO. */
int mxrtc_wav_writer_write(mxrtc_wav_writer *w, const int16_t *pcm, size_t frames);
/* Writes the final sizes and closes; IO if any of that fails. */
int mxrtc_wav_writer_close(mxrtc_wav_writer *w);

/* ======================================================================== Y4M */

#define MXRTC_Y4M_MAX_DIM 8192u      /* width and height bound */
#define MXRTC_Y4M_MAX_LINE 256u      /* stream and frame header lines */

typedef struct mxrtc_y4m_info {
    unsigned width, height;
    unsigned fps_num, fps_den;       /* F tag; 30:1 when absent */
    unsigned par_num, par_den;       /* A tag; 0:0 (unknown) when absent */
    size_t header_len;               /* bytes of the stream header line, '\n' included */
    size_t frame_bytes;              /* I420 payload of one frame: w*h + 2*ceil(w/2)*ceil(h/2) */
} mxrtc_y4m_info;

/* Parses the stream header line "YUV4MPEG2 W.. H.. [F..] [I..] [A..] [C..] [X..]\n"
 * (at most MXRTC_Y4M_MAX_LINE bytes). W and H are required, in 1..8192.
 * Errors: TRUNCATED (no '\n' in buf and buf shorter than the line bound),
 * MALFORMED (bad magic, a tag without value, bad numbers, missing W/H, an
 * overlong line), UNSUPPORTED (interlaced, or a colour space other than
 * 420/420jpeg/420paldv/420mpeg2), LIMIT (W or H over the bound). */
int mxrtc_y4m_parse_header(const uint8_t *buf, size_t len, mxrtc_y4m_info *out);

/* Parses one frame header "FRAME[ params]\n" at buf; *header_len gets its
 * length. The frame's info->frame_bytes payload follows it. Errors:
 * TRUNCATED, MALFORMED (not FRAME, overlong). */
int mxrtc_y4m_parse_frame_header(const uint8_t *buf, size_t len, size_t *header_len);

/* Writes "YUV4MPEG2 W H F n:d Ip A1:1 C420jpeg\n" into out (cap bytes, NUL
 * added). Returns the length or BUFFER_TOO_SMALL / INVALID_ARGUMENT. */
int mxrtc_y4m_write_header(char *out, size_t cap, unsigned width, unsigned height,
                           unsigned fps_num, unsigned fps_den);

typedef struct mxrtc_y4m_file {
    FILE *f;
    mxrtc_y4m_info info;
} mxrtc_y4m_file;

/* Opens and parses the stream header. Errors: those of the parser, IO. */
int mxrtc_y4m_reader_open(mxrtc_y4m_file *r, const char *path);
/* Reads the next frame into i420 (cap >= info.frame_bytes). Returns 1 for a
 * frame, 0 at a clean end of file, or TRUNCATED (the file ends inside a
 * frame), MALFORMED, BUFFER_TOO_SMALL, IO. */
int mxrtc_y4m_reader_read(mxrtc_y4m_file *r, uint8_t *i420, size_t cap);
int mxrtc_y4m_writer_open(mxrtc_y4m_file *w, const char *path, unsigned width, unsigned height,
                          unsigned fps_num, unsigned fps_den);
/* Appends one frame of info.frame_bytes bytes. IO. */
int mxrtc_y4m_writer_write(mxrtc_y4m_file *w, const uint8_t *i420);
/* Closes either kind; IO if the final flush fails. */
int mxrtc_y4m_close(mxrtc_y4m_file *f);

/* ======================================================================== IVF */

#define MXRTC_IVF_HEADER_LEN 32u
#define MXRTC_IVF_FRAME_HEADER_LEN 12u
#define MXRTC_IVF_MAX_FRAME (4u * 1024u * 1024u)  /* a compressed frame's bound */

typedef enum mxrtc_ivf_codec { MXRTC_IVF_VP8 = 1, MXRTC_IVF_VP9 = 2 } mxrtc_ivf_codec;

typedef struct mxrtc_ivf_info {
    mxrtc_ivf_codec codec;
    unsigned width, height;
    uint32_t rate, scale;            /* time base: pts are in units of scale/rate seconds */
    uint32_t frame_count;            /* as declared (writers often leave it 0) */
} mxrtc_ivf_info;

/* Parses the 32-byte file header. Errors: TRUNCATED, MALFORMED (not DKIF,
 * version not 0, header length below 32, zero rate or scale), UNSUPPORTED
 * (a codec other than VP80/VP90). */
int mxrtc_ivf_parse_header(const uint8_t *buf, size_t len, mxrtc_ivf_info *out);
/* Parses a 12-byte frame header. Errors: TRUNCATED, LIMIT (size over
 * MXRTC_IVF_MAX_FRAME), MALFORMED (size 0). */
int mxrtc_ivf_parse_frame_header(const uint8_t *buf, size_t len, uint32_t *size, uint64_t *pts);
/* Writes the 32-byte header into out. INVALID_ARGUMENT for a bad codec,
 * zero rate/scale or a dimension over 65535. */
int mxrtc_ivf_write_header(uint8_t out[MXRTC_IVF_HEADER_LEN], const mxrtc_ivf_info *info);

typedef struct mxrtc_ivf_file {
    FILE *f;
    mxrtc_ivf_info info;
    uint32_t frames;                 /* written so far (writer) */
    int writing;                     /* opened by mxrtc_ivf_writer_open */
} mxrtc_ivf_file;

int mxrtc_ivf_reader_open(mxrtc_ivf_file *r, const char *path);
/* Reads the next frame into buf (cap bytes): returns 1 with *size and *pts
 * set, 0 at a clean end, or TRUNCATED, LIMIT, MALFORMED, BUFFER_TOO_SMALL, IO. */
int mxrtc_ivf_reader_read(mxrtc_ivf_file *r, uint8_t *buf, size_t cap, uint32_t *size, uint64_t *pts);
int mxrtc_ivf_writer_open(mxrtc_ivf_file *w, const char *path, const mxrtc_ivf_info *info);
/* Appends a frame (1..MXRTC_IVF_MAX_FRAME bytes): LIMIT, INVALID_ARGUMENT, IO. */
int mxrtc_ivf_writer_write(mxrtc_ivf_file *w, const uint8_t *frame, size_t size, uint64_t pts);
/* The writer patches the frame count in; IO if that fails. */
int mxrtc_ivf_close(mxrtc_ivf_file *f);

/* ======================================================================= tone */

typedef struct mxrtc_tone {
    double phase;                    /* cycles, in [0, 1) */
    double step;                     /* cycles per sample */
    double amplitude;                /* of full scale, 0..1 */
} mxrtc_tone;

/* A sine of hz at sample_rate, amplitude in 0..1. INVALID_ARGUMENT when hz is
 * not in (0, sample_rate/2) or amplitude outside [0, 1]. */
int mxrtc_tone_init(mxrtc_tone *t, double hz, unsigned sample_rate, double amplitude);
/* Writes frames frames of the tone (the same sample on every channel),
 * continuing the phase of the previous call. */
void mxrtc_tone_fill(mxrtc_tone *t, int16_t *pcm, size_t frames, unsigned channels);

/* Finds the dominant frequency of interleaved PCM (channel 0 is analysed):
 * a Hann-windowed FFT over the last power-of-two block (at most 65536, at
 * least 256 frames), the strongest bin in [min_hz, max_hz], refined by a
 * parabola through the log magnitudes of it and its neighbours.
 * *hz gets the frequency, *rms (may be NULL) the block's RMS in 0..1.
 * Errors: INVALID_ARGUMENT (fewer than 256 frames, bad range), NO_MEMORY,
 * NOT_FOUND (silence: RMS under 1e-4). */
int mxrtc_tone_detect(const int16_t *pcm, size_t frames, unsigned channels, unsigned sample_rate,
                      double min_hz, double max_hz, double *hz, double *rms);

/* ==================================================================== pattern */

/* Bytes of an I420 picture (Y, then U, then V planes, no padding), or 0 if
 * a dimension is 0 or over MXRTC_Y4M_MAX_DIM. */
size_t mxrtc_i420_size(unsigned width, unsigned height);

/* Fills an I420 picture with the colour rgb (BT.601, limited range, as
 * browsers encode a canvas). With moving != 0 a white vertical bar an eighth
 * of the width wide crosses the picture, one step per frame_index.
 * INVALID_ARGUMENT for bad dimensions. */
int mxrtc_pattern_fill(uint8_t *i420, unsigned width, unsigned height, const uint8_t rgb[3],
                       unsigned frame_index, int moving);

/* The mean colour of an I420 picture converted back to RGB (BT.601 limited
 * range): what the receiving side reports as "video_rgb". INVALID_ARGUMENT
 * for bad dimensions. */
int mxrtc_i420_mean_rgb(const uint8_t *i420, unsigned width, unsigned height, uint8_t rgb[3]);

/* The same in a given colour space: matrix is the H.273 MatrixCoefficients
 * value (1 BT.709, anything else BT.601), full_range 1 for full-range
 * samples (0..255), 0 for limited (16..235/240). What a receiver uses when
 * the sender signalled its colour space (webrtc color-space RTP header
 * extension: Chromium's canvas capture is BT.709 full range).
 * INVALID_ARGUMENT for bad dimensions. */
int mxrtc_i420_mean_rgb_cs(const uint8_t *i420, unsigned width, unsigned height, int matrix, int full_range,
                           uint8_t rgb[3]);

#endif
