/*
 * image.c - JPEG (TurboJPEG API of libjpeg-turbo) and PNG (libspng) decode
 * and encode to/from packed RGB24.
 *
 * Untrusted input: the header's dimensions are checked against a pixel
 * limit before the pixel buffer is allocated, libspng gets the same limits
 * plus a chunk-size cap, and any libjpeg warning (e.g. "premature end of
 * data") is fatal, so a truncated file is an error rather than a grey image.
 */
#include "vision/vision.h"

#include <errno.h>
#ifndef EVO_NO_IMAGE_CODECS
#include <spng.h>
#include <turbojpeg.h>
#endif
#include <stdlib.h>
#include <string.h>

/* PNG ancillary chunks (text, ICC, ...) are bounded so a hostile file cannot hoard memory. */
#define PNG_CHUNK_LIMIT ((size_t)64 << 20)

evo_status evo_image_alloc(int width, int height, evo_image *out, evo_error *err)
{
    if (width <= 0 || height <= 0 || width > EVO_IMAGE_MAX_SIDE || height > EVO_IMAGE_MAX_SIDE)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "image size %dx%d, expected 1..%d per side",
                          width, height, EVO_IMAGE_MAX_SIDE);
    uint8_t *data = calloc((size_t)width * (size_t)height, 3);
    if (!data)
        return evo_errorf(err, EVO_ERR_NOMEM, "image %dx%d: out of memory", width, height);
    out->width = width;
    out->height = height;
    out->data = data;
    return EVO_OK;
}

void evo_image_free(evo_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->width = img->height = 0;
}

#ifndef EVO_NO_IMAGE_CODECS
static evo_status check_dims(const char *kind, int64_t w, int64_t h, int64_t max_pixels,
                             evo_error *err)
{
    if (w <= 0 || h <= 0)
        return evo_errorf(err, EVO_ERR_PARSE, "%s: image size %lldx%lld, expected at least 1x1",
                          kind, (long long)w, (long long)h);
    if (w > EVO_IMAGE_MAX_SIDE || h > EVO_IMAGE_MAX_SIDE || w * h > max_pixels)
        return evo_errorf(err, EVO_ERR_LIMIT,
                          "%s: image size %lldx%lld exceeds the limit (%d per side, %lld pixels)",
                          kind, (long long)w, (long long)h, EVO_IMAGE_MAX_SIDE,
                          (long long)max_pixels);
    return EVO_OK;
}

static evo_status decode_jpeg(const uint8_t *buf, size_t size, int64_t max_pixels,
                              evo_image *out, evo_error *err)
{
    if (size > (size_t)0xffffffffu)
        return evo_errorf(err, EVO_ERR_LIMIT, "jpeg: %zu bytes is too large", size);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return evo_errorf(err, EVO_ERR_NOMEM, "jpeg: cannot create a decoder");
    evo_status st = EVO_OK;
    evo_image img = {0, 0, NULL};
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(tj, buf, (unsigned long)size, &w, &h, &subsamp, &colorspace) != 0) {
        st = evo_errorf(err, EVO_ERR_PARSE, "jpeg: bad header: %s", tjGetErrorStr2(tj));
        goto done;
    }
    st = check_dims("jpeg", w, h, max_pixels, err);
    if (st != EVO_OK)
        goto done;
    st = evo_image_alloc(w, h, &img, err);
    if (st != EVO_OK)
        goto done;
    // Warnings (truncation, corrupt entropy data) stop decoding; LIMITSCANS
    // bounds progressive files crafted to take forever.
    if (tjDecompress2(tj, buf, (unsigned long)size, img.data, w, 3 * w, h, TJPF_RGB,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT) != 0) {
        st = evo_errorf(err, EVO_ERR_PARSE, "jpeg %dx%d: corrupt or truncated data: %s", w, h,
                        tjGetErrorStr2(tj));
        evo_image_free(&img);
        goto done;
    }
    *out = img;
done:
    tjDestroy(tj);
    return st;
}

static evo_status decode_png(const uint8_t *buf, size_t size, int64_t max_pixels, evo_image *out,
                             evo_error *err)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return evo_errorf(err, EVO_ERR_NOMEM, "png: cannot create a decoder");
    evo_status st = EVO_OK;
    evo_image img = {0, 0, NULL};
    struct spng_ihdr ihdr;
    int rc = spng_set_png_buffer(ctx, buf, size);
    if (!rc)
        rc = spng_set_image_limits(ctx, EVO_IMAGE_MAX_SIDE, EVO_IMAGE_MAX_SIDE);
    if (!rc)
        rc = spng_set_chunk_limits(ctx, PNG_CHUNK_LIMIT, PNG_CHUNK_LIMIT);
    if (!rc)
        rc = spng_get_ihdr(ctx, &ihdr);
    if (rc) {
        st = evo_errorf(err, rc == SPNG_EWIDTH || rc == SPNG_EHEIGHT || rc == SPNG_EUSER_WIDTH ||
                                     rc == SPNG_EUSER_HEIGHT
                                 ? EVO_ERR_LIMIT
                                 : EVO_ERR_PARSE,
                        "png: bad header: %s", spng_strerror(rc));
        goto done;
    }
    st = check_dims("png", ihdr.width, ihdr.height, max_pixels, err);
    if (st != EVO_OK)
        goto done;
    size_t need = 0;
    rc = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &need);
    if (rc || need != (size_t)ihdr.width * ihdr.height * 3) {
        st = evo_errorf(err, EVO_ERR_PARSE, "png %ux%u: unexpected decoded size", ihdr.width,
                        ihdr.height);
        goto done;
    }
    st = evo_image_alloc((int)ihdr.width, (int)ihdr.height, &img, err);
    if (st != EVO_OK)
        goto done;
    rc = spng_decode_image(ctx, img.data, need, SPNG_FMT_RGB8, SPNG_DECODE_TRNS);
    if (rc) {
        st = evo_errorf(err, EVO_ERR_PARSE, "png %ux%u: corrupt or truncated data: %s",
                        ihdr.width, ihdr.height, spng_strerror(rc));
        evo_image_free(&img);
        goto done;
    }
    *out = img;
done:
    spng_ctx_free(ctx);
    return st;
}
#else
/* Built without libjpeg-turbo and libspng (a cross build without the target's builds of them). */
static evo_status no_codec(const char *what, evo_error *err)
{
    return evo_errorf(err, EVO_ERR_UNSUPPORTED, "%s: this build of evo has no image codecs "
                      "(built without libjpeg-turbo and libspng)", what);
}

static evo_status decode_jpeg(const uint8_t *buf, size_t size, int64_t max_pixels,
                              evo_image *out, evo_error *err)
{
    return no_codec("jpeg decode", err);
}

static evo_status decode_png(const uint8_t *buf, size_t size, int64_t max_pixels, evo_image *out,
                             evo_error *err)
{
    return no_codec("png decode", err);
}
#endif


evo_status evo_image_decode(const void *buf, size_t size_bytes, int64_t max_pixels,
                            evo_image *out, evo_error *err)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *p = buf;
    if (max_pixels <= 0)
        max_pixels = EVO_IMAGE_MAX_PIXELS;
    if (!p || size_bytes == 0)
        return evo_errorf(err, EVO_ERR_PARSE, "image: empty input");
    if (size_bytes >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return decode_jpeg(p, size_bytes, max_pixels, out, err);
    if (size_bytes >= 8 && memcmp(p, png_sig, 8) == 0)
        return decode_png(p, size_bytes, max_pixels, out, err);
    return evo_errorf(err, EVO_ERR_UNSUPPORTED,
                      "image: unknown format (first bytes %02x %02x %02x), expected JPEG or PNG",
                      p[0], size_bytes > 1 ? p[1] : 0, size_bytes > 2 ? p[2] : 0);
}

/* Compressed images larger than this are refused before reading. */
#define IMAGE_FILE_LIMIT ((long)1 << 30)

evo_status evo_image_load(const char *path, evo_image *out, evo_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return evo_errorf(err, EVO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    evo_status st = EVO_OK;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: cannot determine the size", path);
        goto done;
    }
    if (size > IMAGE_FILE_LIMIT) {
        st = evo_errorf(err, EVO_ERR_LIMIT, "%s: %ld bytes, limit %ld", path, size,
                        IMAGE_FILE_LIMIT);
        goto done;
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: read error", path);
        goto done;
    }
    st = evo_image_decode(buf, (size_t)size, 0, out, err);
    if (st != EVO_OK)
        evo_error_prefix(err, "%s", path);
done:
    free(buf);
    fclose(fp);
    return st;
}

#ifndef EVO_NO_IMAGE_CODECS
static evo_status encode_jpeg(const evo_image *img, int quality, uint8_t **out_data,
                              size_t *out_size, evo_error *err)
{
    tjhandle tj = tjInitCompress();
    if (!tj)
        return evo_errorf(err, EVO_ERR_NOMEM, "jpeg: cannot create an encoder");
    unsigned char *jpeg = NULL;
    unsigned long jpeg_size = 0;
    evo_status st = EVO_OK;
    if (tjCompress2(tj, img->data, img->width, 3 * img->width, img->height, TJPF_RGB, &jpeg,
                    &jpeg_size, TJSAMP_420, quality, TJFLAG_ACCURATEDCT) != 0) {
        st = evo_errorf(err, EVO_ERR_INTERNAL, "jpeg encode %dx%d: %s", img->width, img->height,
                        tjGetErrorStr2(tj));
        goto done;
    }
    // The caller frees with free(), so copy out of TurboJPEG's allocator.
    *out_data = malloc(jpeg_size);
    if (!*out_data) {
        st = evo_errorf(err, EVO_ERR_NOMEM, "jpeg encode: out of memory");
        goto done;
    }
    memcpy(*out_data, jpeg, jpeg_size);
    *out_size = jpeg_size;
done:
    tjFree(jpeg);
    tjDestroy(tj);
    return st;
}

static evo_status encode_png(const evo_image *img, uint8_t **out_data, size_t *out_size,
                             evo_error *err)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        return evo_errorf(err, EVO_ERR_NOMEM, "png: cannot create an encoder");
    struct spng_ihdr ihdr;
    memset(&ihdr, 0, sizeof ihdr);
    ihdr.width = (uint32_t)img->width;
    ihdr.height = (uint32_t)img->height;
    ihdr.bit_depth = 8;
    ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
    evo_status st = EVO_OK;
    int rc = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (!rc)
        rc = spng_set_ihdr(ctx, &ihdr);
    if (!rc)
        rc = spng_encode_image(ctx, img->data, (size_t)img->width * img->height * 3,
                               SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    size_t size = 0;
    void *png = NULL;
    if (!rc)
        png = spng_get_png_buffer(ctx, &size, &rc);
    if (rc || !png) {
        st = evo_errorf(err, EVO_ERR_INTERNAL, "png encode %dx%d: %s", img->width, img->height,
                        spng_strerror(rc));
        goto done;
    }
    *out_data = png; // allocated with malloc by libspng's default allocator
    *out_size = size;
done:
    spng_ctx_free(ctx);
    return st;
}
#else
static evo_status encode_jpeg(const evo_image *img, int quality, uint8_t **out_data,
                              size_t *out_size, evo_error *err)
{
    return no_codec("jpeg encode", err);
}

static evo_status encode_png(const evo_image *img, uint8_t **out_data, size_t *out_size,
                             evo_error *err)
{
    return no_codec("png encode", err);
}
#endif


evo_status evo_image_encode(const evo_image *img, evo_image_codec codec, int quality,
                            uint8_t **out_data, size_t *out_size, evo_error *err)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "image encode: empty image");
    if (quality == 0)
        quality = 90;
    if (quality < 1 || quality > 100)
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "image encode: quality %d, expected 1..100",
                          quality);
    if (codec == EVO_IMAGE_JPEG)
        return encode_jpeg(img, quality, out_data, out_size, err);
    if (codec == EVO_IMAGE_PNG)
        return encode_png(img, out_data, out_size, err);
    return evo_errorf(err, EVO_ERR_INVALID_ARG, "image encode: unknown codec %d", (int)codec);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n)
        return false;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

evo_status evo_image_save(const evo_image *img, const char *path, int quality, evo_error *err)
{
    evo_image_codec codec;
    if (ends_with_ci(path, ".jpg") || ends_with_ci(path, ".jpeg"))
        codec = EVO_IMAGE_JPEG;
    else if (ends_with_ci(path, ".png"))
        codec = EVO_IMAGE_PNG;
    else
        return evo_errorf(err, EVO_ERR_INVALID_ARG, "%s: unknown extension, expected .jpg or .png",
                          path);
    uint8_t *data = NULL;
    size_t size = 0;
    evo_status st = evo_image_encode(img, codec, quality, &data, &size, err);
    if (st != EVO_OK) {
        evo_error_prefix(err, "%s", path);
        return st;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        st = evo_errorf(err, EVO_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    } else {
        bool ok = data && fwrite(data, 1, size, fp) == size;
        if (fclose(fp) != 0)
            ok = false;
        if (!ok)
            st = evo_errorf(err, EVO_ERR_IO, "%s: write error", path);
    }
    free(data);
    return st;
}
