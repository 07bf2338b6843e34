/*
 * test_video_stream.c - the video loop end to end on videos the ffmpeg CLI
 * makes at test time from images (the shared sample photos when present,
 * drawn patterns otherwise; no video is committed).
 *
 * Lossless encodes make each frame's pixels known, so every frame's
 * detections must equal, bit for bit, the single-image detections of the
 * same pixels: the RGB frames against the source PNGs, the YUV frames
 * against the same planes read back by the ffmpeg CLI and passed as an
 * evo_frame. Counts and order are checked with --every, --max-frames,
 * --start and --duration; damaged files must lose only their bad frames
 * (a warning each) and a missing source must fail in one line.
 *
 * usage: test_video_stream MODEL_DIR SHARED_DATA_DIR WORK_DIR [TEST]
 */
#include "check.h"
#include "evo.h"
#include "evo_video.h"
#include "vision/vision.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FRAMES 8
#define FW 320
#define FH 240
#define MAX_DETS 64
#define MAX_RECORDS 64

static char work[1024], models_dir[1024], shared_dir[1024];
static evo_model *model;
static evo_detect_options dopts;

/* Runs a shell command built from fmt; returns its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int r = system(cmd);
    if (r != 0)
        fprintf(stderr, "command failed (%d): %s\n", r, cmd);
    return r;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

typedef struct record {
    int64_t index;
    double pts;
    evo_pixel_format format;
    int w, h, n;
    bool corrupt;
    evo_detection dets[MAX_DETS];
} record;

typedef struct collected {
    record r[MAX_RECORDS];
    int n;
    int stop_after; /* callback returns 1 after this many; 0: never */
} collected;

static int collect(void *user, const evo_stream_result *res)
{
    collected *c = user;
    CHECK(res->seq == c->n);
    if (c->n < MAX_RECORDS) {
        record *r = &c->r[c->n];
        r->index = res->index, r->pts = res->pts_s, r->format = res->frame->format;
        r->w = res->frame->width, r->h = res->frame->height, r->n = res->n_dets, r->corrupt = res->corrupt;
        CHECK(res->dets != NULL);
        if (res->dets && res->n_dets > 0)
            memcpy(r->dets, res->dets, sizeof(evo_detection) * (size_t)(res->n_dets < MAX_DETS ? res->n_dets : MAX_DETS));
    }
    c->n++;
    return c->stop_after > 0 && c->n >= c->stop_after;
}

static int n_warnings;

static void count_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= 1) {
        n_warnings++;
        fprintf(stderr, "  warning: %s\n", msg);
    }
}

/* Runs the loop over path; false (with a failed check) when it cannot. */
static bool run_stream(const char *path, evo_stream_options *so, collected *c, evo_stream_stats *stats)
{
    evo_error err = {0};
    evo_detector *det = NULL;
    evo_stream *st = NULL;
    evo_session_options sess = evo_session_options_default();
    sess.n_threads = 2;
    so->log = count_log;
    CHECK_MSG(evo_detector_create(model, &sess, &dopts, &det, &err) == EVO_OK, "%s", err.msg);
    CHECK_MSG(evo_stream_open(path, so, &st, &err) == EVO_OK, "%s", err.msg);
    bool ok = det && st;
    if (ok) {
        evo_status s = evo_stream_run(st, det, collect, c, &err);
        CHECK_MSG(s == EVO_OK, "%s: %s", path, err.msg);
        ok = s == EVO_OK;
        *stats = evo_stream_get_stats(st);
    }
    evo_stream_free(st);
    evo_detector_free(det);
    return ok;
}

/* The single-image detections of a frame, with a detector of its own. */
static int reference(const evo_frame *f, evo_detection *out)
{
    evo_error err = {0};
    evo_detector *det = NULL;
    evo_session_options sess = evo_session_options_default();
    sess.n_threads = 2;
    const evo_detection *d = NULL;
    int n = -1;
    CHECK_MSG(evo_detector_create(model, &sess, &dopts, &det, &err) == EVO_OK, "%s", err.msg);
    if (det && evo_detector_run(det, f, &d, &n, &err) == EVO_OK)
        memcpy(out, d, sizeof(evo_detection) * (size_t)(n < MAX_DETS ? n : MAX_DETS));
    else
        CHECK_MSG(false, "reference detection: %s", err.msg);
    evo_detector_free(det);
    return n;
}

static void check_same(const record *r, const evo_detection *ref, int n_ref, const char *what)
{
    CHECK_MSG(r->n == n_ref, "%s frame %lld: %d detections, single image %d", what, (long long)r->index, r->n, n_ref);
    int n = r->n < n_ref ? r->n : n_ref;
    if (n > MAX_DETS)
        n = MAX_DETS;
    for (int i = 0; i < n; i++) {
        const evo_detection *a = &r->dets[i], *b = &ref[i];
        CHECK_MSG(a->x0 == b->x0 && a->y0 == b->y0 && a->x1 == b->x1 && a->y1 == b->y1 && a->score == b->score &&
                      a->class_id == b->class_id,
                  "%s frame %lld box %d: [%.9g %.9g %.9g %.9g] %.9g c%d vs [%.9g %.9g %.9g %.9g] %.9g c%d", what,
                  (long long)r->index, i, (double)a->x0, (double)a->y0, (double)a->x1, (double)a->y1,
                  (double)a->score, a->class_id, (double)b->x0, (double)b->y0, (double)b->x1, (double)b->y1,
                  (double)b->score, b->class_id);
    }
}

/* Reads a whole file; NULL when it cannot. */
static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* A lossless video of the PNG frames in pix_fmt, in path. */
static bool encode_lossless(const char *path, const char *codec_args, const char *pix_fmt)
{
    return sh("ffmpeg -nostdin -hide_banner -loglevel error -y -framerate 10 -i '%s/frame_%%03d.png' %s -pix_fmt %s '%s'",
              work, codec_args, pix_fmt, path) == 0;
}

#define PATH_LEN 1200

/* path = WORK/name, made from the PNG frames by encode_lossless; false (a failed check) when it cannot. */
static bool make_video(char path[PATH_LEN], const char *name, const char *codec_args, const char *pix_fmt)
{
    snprintf(path, PATH_LEN, "%s/%s", work, name);
    bool ok = encode_lossless(path, codec_args, pix_fmt);
    CHECK_MSG(ok, "cannot make %s", path);
    return ok;
}

/*
 * The loop over path into a cleared c, with the options so (NULL: the
 * defaults); the callback stops after stop_after frames (0: never).
 */
static bool run_fresh(const char *path, const evo_stream_options *so, int stop_after, collected *c,
                      evo_stream_stats *st)
{
    memset(c, 0, sizeof *c);
    c->stop_after = stop_after;
    evo_stream_options o = so ? *so : evo_stream_options_default();
    return run_stream(path, &o, c, st);
}

/* RGB frames (ffv1 bgr0): zero-copy BGRA views, detections equal to the PNGs'. */
static void test_rgb_bitexact(void)
{
    char path[PATH_LEN];
    static collected c;
    evo_stream_stats st;
    if (!make_video(path, "rgb.mkv", "-c:v ffv1", "bgr0") || !run_fresh(path, NULL, 0, &c, &st))
        return;
    CHECK_MSG(c.n == N_FRAMES, "%d frames", c.n);
    CHECK(st.frames_converted == 0 && st.frames_bad == 0 && st.frames_dropped == 0);
    for (int k = 0; k < EVO_STAGE_COUNT; k++)
        CHECK_MSG(st.stage[k].copied_bytes == 0, "stage %s copied %g B/frame", evo_stream_stage_name(k),
                  st.stage[k].copied_bytes);
    CHECK(st.frame_bytes == (double)FW * FH * 4 && st.tensor_bytes > 0);
    int with_boxes = 0;
    for (int i = 0; i < c.n && i < N_FRAMES; i++) {
        const record *r = &c.r[i];
        CHECK(r->index == i && r->format == EVO_PIXEL_BGRA32 && r->w == FW && r->h == FH);
        CHECK_MSG(r->pts > i * 0.1 - 1e-6 && r->pts < i * 0.1 + 1e-6, "frame %d at %g s", i, r->pts);
        char png[1200];
        snprintf(png, sizeof png, "%s/frame_%03d.png", work, i);
        evo_image img = {0, 0, NULL};
        evo_error err = {0};
        CHECK_MSG(evo_image_load(png, &img, &err) == EVO_OK, "%s", err.msg);
        evo_frame f = {EVO_PIXEL_RGB24, img.width, img.height, img.data, (size_t)img.width * 3, NULL, 0, NULL};
        evo_detection ref[MAX_DETS];
        int n = reference(&f, ref);
        check_same(r, ref, n, "rgb");
        with_boxes += n > 0;
        evo_image_free(&img);
    }
    CHECK_MSG(with_boxes > 0, "no frame has a detection: the comparison would be empty");
}

/* YUV frames of layout pix_fmt, against the planes the ffmpeg CLI decodes from the same file. */
static void check_yuv(const char *name, const char *codec_args, const char *pix_fmt, evo_pixel_format want)
{
    char path[PATH_LEN], raw[PATH_LEN];
    if (!make_video(path, name, codec_args, pix_fmt))
        return;
    snprintf(raw, sizeof raw, "%s/%s.raw", work, name);
    CHECK(sh("ffmpeg -nostdin -hide_banner -loglevel error -y -i '%s' -f rawvideo -pix_fmt %s '%s'", path, pix_fmt,
             raw) == 0);
    static collected c;
    evo_stream_stats st;
    if (!run_fresh(path, NULL, 0, &c, &st))
        return;
    CHECK_MSG(c.n == N_FRAMES, "%s: %d frames", name, c.n);
    CHECK(st.frames_converted == 0 && st.stage[EVO_STAGE_DECODE].copied_bytes == 0);
    size_t size = 0, one = evo_frame_size_bytes(want, FW, FH);
    uint8_t *buf = read_all(raw, &size);
    CHECK_MSG(buf && size == one * N_FRAMES, "%s: %zu bytes, expected %zu", raw, size, one * N_FRAMES);
    for (int i = 0; buf && size == one * N_FRAMES && i < c.n && i < N_FRAMES; i++) {
        CHECK_MSG(c.r[i].format == want, "%s frame %d: %s", name, i, evo_pixel_format_name(c.r[i].format));
        const uint8_t *p = buf + one * (size_t)i;
        size_t stride = want == EVO_PIXEL_YUYV ? 2 * FW : FW;
        evo_frame f = {want, FW, FH, p, stride, NULL, 0, NULL};
        evo_detection ref[MAX_DETS];
        int n = reference(&f, ref);
        check_same(&c.r[i], ref, n, name);
    }
    free(buf);
}

static void test_i420_bitexact(void)
{
    check_yuv("i420.mkv", "-c:v ffv1", "yuv420p", EVO_PIXEL_I420);
}

static void test_nv12_yuyv_bitexact(void)
{
    check_yuv("nv12.nut", "-c:v rawvideo", "nv12", EVO_PIXEL_NV12);
    check_yuv("yuyv.nut", "-c:v rawvideo", "yuyv422", EVO_PIXEL_YUYV);
}

/* A layout the letterbox cannot read is converted once, and the copy is counted. */
static void test_converted_counted(void)
{
    char path[PATH_LEN];
    static collected c;
    evo_stream_stats st;
    if (!make_video(path, "yuv444.mkv", "-c:v ffv1", "yuv444p") || !run_fresh(path, NULL, 0, &c, &st))
        return;
    CHECK(c.n == N_FRAMES && st.frames_converted == N_FRAMES);
    CHECK_MSG(st.stage[EVO_STAGE_DECODE].copied_bytes == FW * FH * 3 / 2, "%g B/frame",
              st.stage[EVO_STAGE_DECODE].copied_bytes);
    CHECK(c.n > 0 && c.r[0].format == EVO_PIXEL_I420);
}

/* every, max_frames, start + duration, the callback's stop: counts, indices and order. */
static void test_counts_and_order(void)
{
    char path[PATH_LEN];
    if (!make_video(path, "order.mkv", "-c:v ffv1 -g 1", "yuv420p"))
        return;
    static collected c;
    evo_stream_options so;
    evo_stream_stats st;

    so = evo_stream_options_default();
    so.every = 3;
    if (run_fresh(path, &so, 0, &c, &st)) {
        CHECK_MSG(c.n == 3 && c.r[0].index == 0 && c.r[1].index == 3 && c.r[2].index == 6, "every 3: %d frames", c.n);
        CHECK(st.frames_decoded == N_FRAMES && st.frames_skipped == N_FRAMES - 3 && st.frames_processed == 3);
    }

    so = evo_stream_options_default();
    so.max_frames = 5;
    if (run_fresh(path, &so, 0, &c, &st)) {
        CHECK_MSG(c.n == 5, "max 5: %d frames", c.n);
        for (int i = 0; i < c.n && i < MAX_RECORDS; i++)
            CHECK(c.r[i].index == i);
    }

    so = evo_stream_options_default();
    so.start_s = 0.3, so.duration_s = 0.3; // frames at 0.3, 0.4, 0.5
    if (run_fresh(path, &so, 0, &c, &st)) {
        CHECK_MSG(c.n == 3, "start 0.3 duration 0.3: %d frames", c.n);
        for (int i = 0; i < c.n && i < 3; i++)
            CHECK_MSG(c.r[i].pts > 0.3 + 0.1 * i - 1e-6 && c.r[i].pts < 0.3 + 0.1 * i + 1e-6, "frame %d at %g s", i,
                      c.r[i].pts);
    }

    if (run_fresh(path, NULL, 2, &c, &st))
        CHECK_MSG(c.n == 2 && st.frames_processed == 2, "stopped after 2: %d frames", c.n);

    // A file read as a live source: the newest frame wins, and every frame is either processed or dropped.
    so = evo_stream_options_default();
    so.live = 1;
    if (run_fresh(path, &so, 0, &c, &st)) {
        CHECK_MSG(st.frames_processed + st.frames_dropped == N_FRAMES, "live: %lld processed + %lld dropped",
                  (long long)st.frames_processed, (long long)st.frames_dropped);
        for (int i = 1; i < c.n && i < MAX_RECORDS; i++)
            CHECK(c.r[i].index > c.r[i - 1].index);
    }
}

/* Packet positions of a file, from ffprobe: n_out packets at pos[], size[]. */
static int packets(const char *path, long *pos, long *size, int cap)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "ffprobe -v error -select_streams v:0 -show_entries packet=pos,size -of csv=p=0 '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    int n = 0;
    while (n < cap && fscanf(p, "%ld,%ld", &size[n], &pos[n]) == 2)
        n++;
    pclose(p);
    return n;
}

/*
 * Damaged files: two frames' packets overwritten in the middle, then the file
 * cut inside a later packet. The loop warns per bad frame, keeps going, and
 * every intact frame still gives its single-image detections.
 */
static void test_corrupted_midway(void)
{
    char path[PATH_LEN], bad[PATH_LEN];
    snprintf(bad, sizeof bad, "%s/intra_bad.mkv", work);
    if (!make_video(path, "intra.mkv", "-c:v libx264 -g 1 -qp 0 -preset ultrafast -slices 4", "yuv420p"))
        return;
    long pos[N_FRAMES + 4], size[N_FRAMES + 4];
    int n = packets(path, pos, size, N_FRAMES + 4);
    CHECK_MSG(n == N_FRAMES, "%d packets", n);
    size_t fsize = 0;
    uint8_t *buf = read_all(path, &fsize);
    if (n != N_FRAMES || !buf) {
        free(buf);
        return;
    }
    const int hit[2] = {2, 5};
    for (int k = 0; k < 2; k++) {
        long p = pos[hit[k]] + size[hit[k]] / 2;
        for (long j = 0; j < 64 && p + j < (long)fsize; j++)
            buf[p + j] ^= 0x5a;
    }
    FILE *f = fopen(bad, "wb");
    CHECK(f && fwrite(buf, 1, fsize, f) == fsize);
    if (f)
        fclose(f);

    static collected c;
    n_warnings = 0;
    evo_stream_stats st;
    if (run_fresh(bad, NULL, 0, &c, &st)) {
        CHECK_MSG(n_warnings >= 2 && st.frames_bad >= 2, "%d warnings, %lld bad frames", n_warnings,
                  (long long)st.frames_bad);
        int intact = 0;
        for (int i = 0; i < c.n && i < MAX_RECORDS; i++) {
            int frame = (int)(c.r[i].pts * 10 + 0.5);
            if (frame == hit[0] || frame == hit[1] || c.r[i].corrupt)
                continue;
            intact++;
            // the same frame of the undamaged file, as a single image
            static collected good;
            evo_stream_stats st2;
            if (i == 0)
                run_fresh(path, NULL, 0, &good, &st2);
            if (frame < good.n)
                check_same(&c.r[i], good.r[frame].dets, good.r[frame].n, "intact");
        }
        CHECK_MSG(intact == N_FRAMES - 2, "%d intact frames processed", intact);
    }

    // cut in the middle of packet 6: frames 0..5 are whole
    f = fopen(bad, "wb");
    size_t cut = (size_t)(pos[6] + size[6] / 2);
    CHECK(f && fwrite(buf, 1, cut, f) == cut);
    if (f)
        fclose(f);
    free(buf);
    if (run_fresh(bad, NULL, 0, &c, &st))
        CHECK_MSG(c.n >= 6 && c.n <= 7, "truncated: %d frames", c.n);
}

/* Random damage anywhere past the header, many seeds: the wrapper survives every one. */
static void test_random_damage(void)
{
    char path[PATH_LEN], bad[PATH_LEN];
    snprintf(path, sizeof path, "%s/h264.mp4", work);
    snprintf(bad, sizeof bad, "%s/h264_bad.mp4", work);
    CHECK(sh("ffmpeg -nostdin -hide_banner -loglevel error -y -framerate 10 -i '%s/frame_%%03d.png' -c:v libx264 "
             "-g 4 -pix_fmt yuv420p '%s'", work, path) == 0);
    size_t fsize = 0;
    uint8_t *orig = read_all(path, &fsize);
    CHECK(orig && fsize > 256);
    if (!orig || fsize <= 256) {
        free(orig);
        return;
    }
    uint8_t *buf = malloc(fsize);
    check_rng rng = {0x1234567};
    for (int seed = 0; seed < 6 && buf; seed++) {
        memcpy(buf, orig, fsize);
        int flips = check_rng_int(&rng, 1, 40);
        for (int k = 0; k < flips; k++)
            buf[check_rng_int(&rng, 64, (int)fsize - 1)] = (uint8_t)check_rng_u64(&rng);
        size_t len = seed % 2 ? (size_t)check_rng_int(&rng, 64, (int)fsize) : fsize;
        FILE *f = fopen(bad, "wb");
        CHECK(f && fwrite(buf, 1, len, f) == len);
        if (f)
            fclose(f);
        // either it opens and runs to the end, or opening fails with a message: never a crash
        evo_error err = {0};
        evo_stream *st = NULL;
        evo_stream_options so = evo_stream_options_default();
        so.log = count_log;
        if (evo_stream_open(bad, &so, &st, &err) != EVO_OK) {
            CHECK(err.msg[0] != 0);
            continue;
        }
        evo_detector *det = NULL;
        evo_session_options sess = evo_session_options_default();
        CHECK(evo_detector_create(model, &sess, &dopts, &det, &err) == EVO_OK);
        static collected c;
        memset(&c, 0, sizeof c);
        evo_status s = evo_stream_run(st, det, collect, &c, &err);
        CHECK_MSG(s == EVO_OK, "seed %d: %s", seed, err.msg);
        CHECK(c.n <= N_FRAMES + 2);
        evo_detector_free(det);
        evo_stream_free(st);
    }
    free(buf);
    free(orig);
}

/* The annotated video has every frame; the boxes are drawn on it. */
static void test_annotated_output(void)
{
    char path[PATH_LEN], out[PATH_LEN];
    snprintf(out, sizeof out, "%s/annotated.mp4", work);
    static collected c;
    evo_stream_options so = evo_stream_options_default();
    so.output_path = out;
    evo_stream_stats st;
    if (!make_video(path, "src.mkv", "-c:v ffv1", "yuv420p") || !run_fresh(path, &so, 0, &c, &st))
        return;
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height "
             "-of csv=p=0 '%s'", out);
    FILE *p = popen(cmd, "r");
    int w = 0, h = 0, frames = 0;
    CHECK(p && fscanf(p, "%d,%d,%d", &w, &h, &frames) == 3);
    if (p)
        pclose(p);
    CHECK_MSG(w == FW && h == FH && frames == N_FRAMES, "%dx%d, %d frames", w, h, frames);
    // the ffv1 frames stay with the decoder, so drawing needs one copy of each (counted)
    CHECK(st.stage[EVO_STAGE_SINK].copied_bytes <= FW * FH * 3 / 2);
}

static void test_missing_source(void)
{
    evo_error err = {0};
    evo_stream *st = NULL;
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/no_such_video.mp4", work);
    evo_stream_options so = evo_stream_options_default();
    CHECK(evo_stream_open(path, &so, &st, &err) == EVO_ERR_IO && st == NULL);
    CHECK_MSG(strstr(err.msg, "no_such_video.mp4") && !strchr(err.msg, '\n'), "%s", err.msg);
    CHECK(evo_stream_open("", &so, &st, &err) == EVO_ERR_INVALID_ARG);
    so.every = 0;
    CHECK(evo_stream_open(path, &so, &st, &err) == EVO_ERR_INVALID_ARG);
    evo_stream_free(NULL);
}

/* Test frames: the shared photos (and their mirror images), or drawn patterns. */
static bool make_frames(void)
{
    static const char *const photos[4] = {"dog", "horses", "person", "giraffe"};
    char p[1200];
    snprintf(p, sizeof p, "%s/images/dog.jpg", shared_dir);
    if (exists(p)) {
        for (int i = 0; i < N_FRAMES; i++)
            if (sh("ffmpeg -nostdin -hide_banner -loglevel error -y -i '%s/images/%s.jpg' -vf 'scale=%d:%d%s' "
                   "'%s/frame_%03d.png'",
                   shared_dir, photos[i % 4], FW, FH, i >= 4 ? ",hflip" : "", work, i))
                return false;
        return true;
    }
    printf("note: %s not found: drawn test frames instead of the sample photos\n", p);
    for (int i = 0; i < N_FRAMES; i++)
        if (sh("ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i 'testsrc2=size=%dx%d:rate=10' "
               "-vf 'trim=start_frame=%d:end_frame=%d' -frames:v 1 '%s/frame_%03d.png'",
               FW, FH, i * 3, i * 3 + 1, work, i))
            return false;
    return true;
}

static bool load_model(void)
{
    char p[1200];
    evo_compile_options co = evo_compile_options_default();
    evo_error err = {0};
    snprintf(p, sizeof p, "%s/models/yolox_nano.onnx", shared_dir);
    if (exists(p)) {
        CHECK(evo_detect_options_preset("yolox", &dopts, &err) == EVO_OK);
    } else {
        snprintf(p, sizeof p, "%s/yolov8n_op17.onnx", models_dir);
        dopts = evo_detect_options_default();
        dopts.decode.conf_threshold = 0.01f; // random weights: low scores, still some boxes
    }
    if (!exists(p))
        return false;
    CHECK_MSG(evo_model_load(p, &co, &model, &err) == EVO_OK, "%s", err.msg);
    return model != NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL_DIR SHARED_DATA_DIR WORK_DIR [TEST]\n", argv[0]);
        return 2;
    }
    snprintf(models_dir, sizeof models_dir, "%s", argv[1]);
    evo_video_quiet_ffmpeg(true); // our warnings come through the log callback
    snprintf(shared_dir, sizeof shared_dir, "%s", argv[2]);
    if (sh("ffmpeg -version > /dev/null 2>&1 && ffprobe -version > /dev/null 2>&1") != 0) {
        printf("skip: the ffmpeg and ffprobe commands are needed to make the test videos\n");
        return 77;
    }
    snprintf(work, sizeof work, "%s/video_XXXXXX", argv[3]);
    mkdir(argv[3], 0755);
    if (!mkdtemp(work)) {
        fprintf(stderr, "cannot create a folder in %s\n", argv[3]);
        return 1;
    }
    if (!load_model()) {
        printf("skip: no detector model (%s/models/yolox_nano.onnx or %s/yolov8n_op17.onnx)\n", shared_dir,
               models_dir);
        sh("rm -rf '%s'", work);
        return check_failures ? 1 : 77;
    }
    int rc = 1;
    if (make_frames()) {
        static const check_test tests[] = {
            CHECK_TEST(test_rgb_bitexact),     CHECK_TEST(test_i420_bitexact),  CHECK_TEST(test_nv12_yuyv_bitexact),
            CHECK_TEST(test_converted_counted), CHECK_TEST(test_counts_and_order), CHECK_TEST(test_corrupted_midway),
            CHECK_TEST(test_random_damage),    CHECK_TEST(test_annotated_output), CHECK_TEST(test_missing_source),
        };
        rc = check_run(tests, (int)(sizeof(tests) / sizeof(tests[0])), argc - 3, argv + 3);
    } else {
        fprintf(stderr, "cannot make the test frames with ffmpeg\n");
    }
    evo_model_free(model);
    sh("rm -rf '%s'", work);
    return rc;
}
