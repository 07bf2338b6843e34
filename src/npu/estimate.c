/*
 * estimate.c - the NPU performance model (estimate.h). Each node on the
 * NPU is described again as TFLite-level operators (evo_npu_describe) and
 * each operator becomes one or more jobs: a block-based MAC job (conv,
 * depthwise, fully connected, pooling), an elementwise job (ADD, MUL,
 * table activations) or a copy (concatenation inputs, slices, transposes).
 *
 * A job's output is cut into blocks that fit the shared buffer (input
 * block, double buffered, plus 32-bit accumulators); the block is chosen
 * to fetch the fewest input and weight bytes per output element. Compute
 * cycles per block: the MAC array works micro-block by micro-block (4
 * cycles per micro-block and kernel step, 32 at least for the weight
 * load), the output unit per element; each block also waits for its
 * commands and the first bytes of its input and output (latency). Memory
 * cycles: the bytes each memory moves, scaled up when bursts are shorter
 * than the memory's, over its bandwidth. A job takes the larger of the two.
 */
#include "npu/estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum job_kind { JOB_CONV, JOB_DEPTHWISE, JOB_VECTOR, JOB_POOL, JOB_ELEMENTWISE, JOB_COPY } job_kind;

typedef struct job {
    job_kind kind;
    int64_t ih, iw, ic, oh, ow, oc; /* NHWC view of the input and output */
    int64_t kh, kw, sh, sw;
    int upscale;           /* nearest resize: input pixels repeat */
    int n_ifm2;            /* elementwise: 0 unary, 1 a scalar second input, 2 a full one */
    bool transposed;       /* a copy that writes with an element stride */
    bool ifm_shared, ofm_shared; /* the tensor is shared with the CPU: in the arena, in NHWC (not NPU bricks) */
    double weight_bytes;   /* encoded weights, scales and biases */
    double macs;
    evo_npu_out_class out;
    evo_npu_act_class act;
} job;

typedef struct job_cost {
    double npu, mem_bytes[EVO_NPU_MEM_COUNT], mem_cycles[EVO_NPU_MEM_COUNT];
} job_cost;

typedef struct blk {
    int64_t w, h, d;       /* output block */
    int64_t iw, ih, id;    /* input block */
    bool part_kernel;      /* kernel-first traversal (few input channels) */
} blk;

static int64_t div_up(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t round_up(int64_t a, int64_t b)
{
    return div_up(a, b) * b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

const char *evo_npu_bound_name(evo_npu_bound b)
{
    static const char *const names[] = {"-", "compute", "SRAM", "DRAM", "flash"};
    return b >= 0 && b <= EVO_NPU_BOUND_FLASH ? names[b] : "?";
}

const char *evo_npu_mem_name(evo_npu_mem m)
{
    static const char *const names[] = {"SRAM", "DRAM", "flash"};
    return m >= 0 && m < EVO_NPU_MEM_COUNT ? names[m] : "?";
}

/* Shared-buffer banks a buffer of bytes takes, double buffered and rounded to the granule. */
static int64_t banks_for(double bytes, int granule)
{
    return round_up(div_up((int64_t)bytes, 1024) * 2, granule);
}

/* Does the input block (and accumulators, or a second input) fit the shared buffer? */
static bool block_fits(const evo_npu_perf *p, const job *j, const blk *b)
{
    int64_t avail = p->shram_banks - p->shram_end_banks - 2; /* 2 banks hold the output */
    int64_t ifm = banks_for((double)(b->iw * b->ih * round_up(b->id, 8)), p->ifm_granule);
    if (j->kind == JOB_ELEMENTWISE || j->kind == JOB_COPY)
        return ifm * (j->n_ifm2 == 2 ? 2 : 1) <= avail;
    int64_t acc = banks_for((double)(b->w * b->h * round_up(b->d, 8) * 4), p->acc_granule);
    return ifm + acc <= avail;
}

/* Kernel-first when few input channels fill the dot products better that way. */
static bool use_part_kernel(const job *j)
{
    if (j->kind != JOB_CONV)
        return false;
    if (j->ic <= 8)
        return true;
    double k = (double)(j->kh * j->kw);
    double depth_use = (double)j->ic / (double)round_up(j->ic, 32);
    double part_use = (double)j->ic * k / ((double)round_up(j->ic, 8) * (double)round_up((int64_t)k, 4));
    return part_use > depth_use;
}

static void input_block(const evo_npu_perf *p, const job *j, blk *b)
{
    int64_t kh = min64(j->kh, 8), kw = min64(j->kw, 8);
    b->ih = round_up(div_up((b->h - 1) * j->sh + kh, j->upscale), p->ublock_h);
    b->iw = round_up(div_up((b->w - 1) * j->sw + kw, j->upscale), p->ublock_w);
    bool equal_depth = j->kind != JOB_CONV && j->kind != JOB_VECTOR;
    b->id = equal_depth ? b->d : round_up(min64(j->ic, b->part_kernel ? 16 : 32), 8);
}

/* Input and weight bytes fetched per output element with block b (the block search's cost). */
static double fetch_cost(const job *j, const blk *b)
{
    double out = (double)(j->oh * j->ow * j->oc);
    if (j->kind == JOB_ELEMENTWISE || j->kind == JOB_COPY)
        return fmax(out / (double)(b->w * b->h * b->d), 1.0);
    double wh_blocks = (double)(div_up(j->oh, b->h) * div_up(j->ow, b->w));
    double d_blocks = (double)div_up(j->oc, b->d);
    double ifm = (double)(b->iw * b->ih * j->ic) * wh_blocks;
    double wgt = 0;
    if (j->kind == JOB_CONV || j->kind == JOB_VECTOR) {
        ifm *= d_blocks;
        wgt = (double)(j->kh * j->kw * j->ic) * wh_blocks * (double)j->oc;
    } else if (j->kind == JOB_DEPTHWISE) {
        wgt = (double)(j->kh * j->kw * j->ic) * wh_blocks;
    }
    double cost = (ifm + wgt) / out;
    if ((double)(j->ih * j->iw * j->ic) < 2.0 * (double)(b->iw * b->ih * b->id))
        cost /= 2; /* the whole input fits in the two input buffers */
    return cost;
}

/* The output block with the least fetch per output element among those that fit the shared buffer. */
static blk choose_block(const evo_npu_perf *p, const job *j)
{
    blk best = {p->ublock_w, p->ublock_h, p->ublock_d, 0, 0, 0, use_part_kernel(j)};
    input_block(p, j, &best);
    double best_cost = INFINITY;
    int64_t max_h = round_up(min64(j->oh, 32), p->ublock_h), max_w = round_up(min64(j->ow, 64), p->ublock_w);
    int64_t max_d = round_up(min64(j->oc, 128), p->ublock_d);
    int64_t d = max64(p->ublock_d, min64(max_d, 16));
    if (d < j->oc)
        d = round_up(d, 16);
    for (; d <= max_d;) {
        for (int64_t h = p->ublock_h; h <= max_h; h += p->ublock_h) {
            for (int64_t w = p->ublock_w; w <= max_w; w += p->ublock_w) {
                blk b = {w, h, d, 0, 0, 0, best.part_kernel};
                input_block(p, j, &b);
                if (!block_fits(p, j, &b))
                    continue;
                double c = fetch_cost(j, &b);
                if (c < best_cost) {
                    best_cost = c;
                    best = b;
                }
            }
        }
        d += p->ublock_d;
        if (d < j->oc)
            d = round_up(d, 16);
    }
    return best;
}

/* Burst efficiency: how many bytes a memory moves per useful byte when bursts are burst_bytes long. */
static double burst_factor(const evo_npu_port *m, double burst_bytes)
{
    if (m->burst_bytes <= 0 || burst_bytes <= 0)
        return 1;
    return (double)m->burst_bytes / fmin((double)m->burst_bytes, burst_bytes);
}

/*
 * Burst lengths in bytes of a block's input reads and output writes. The
 * NPU's own tensors are bricks of 16 channels, read and written a block row
 * (16 * block width bytes) at a time; a tensor shared with the CPU is NHWC,
 * where a burst spans only the block's channels (writes at most 16 per core).
 */
static double read_burst(const job *j, const blk *b)
{
    return j->ifm_shared ? (double)b->id : 16.0 * (double)b->w;
}

static double write_burst(const evo_npu_perf *p, const job *j, const blk *b)
{
    if (j->transposed)
        return 1;
    return j->ofm_shared ? fmin((double)b->d, fmin(64.0, 16.0 * p->n_cores)) : 16.0 * (double)b->w * p->n_cores;
}

/* Cycles one block's first input and output bytes take to arrive (latency plus transfer). */
static double block_latency(const evo_npu_perf *p, evo_npu_mem ifm_mem, evo_npu_mem ofm_mem, const job *j,
                            const blk *b)
{
    const evo_npu_port *in = &p->mem[ifm_mem], *out = &p->mem[ofm_mem];
    double in_bytes = (double)(min64(b->ih, j->ih) * min64(b->iw, j->iw) * min64(b->id, j->ic));
    double out_bytes = (double)(min64(b->h, j->oh) * min64(b->w, j->ow) * min64(b->d, j->oc));
    double c = in->read_latency + in_bytes * burst_factor(in, read_burst(j, b)) / in->bytes_per_cycle;
    c += out->write_latency + out_bytes * burst_factor(out, write_burst(p, j, b)) / out->bytes_per_cycle;
    return c;
}

static double per_element(const evo_npu_perf *p, const job *j)
{
    if (j->kind == JOB_ELEMENTWISE && j->n_ifm2 == 0 && j->act == EVO_NPU_ACTC_LUT)
        return p->lut_op_cycles;
    return fmax(p->out_cycles[j->out], p->act_cycles[j->act]);
}

/* MAC-array cycles of one block over the whole kernel (split in sub-kernels of at most 8x8). */
static double dpu_block_cycles(const evo_npu_perf *p, const job *j, const blk *b)
{
    int64_t bh = min64(b->h, j->oh), bw = min64(b->w, j->ow), bd = min64(b->d, j->oc);
    int64_t ub_w = p->ublock_w, ub_h = p->ublock_h;
    if (p->ublock_h == 2 && j->oh == 1 && j->ow % 2 == 0 && j->kh == 1 && j->kind != JOB_POOL) {
        ub_w = 4; /* a one-row output uses a 4x1 micro-block */
        ub_h = 1;
        bh = 1;
    }
    int64_t n_xy = div_up(bw, ub_w) * div_up(bh, ub_h), n_z = div_up(bd, p->ublock_d);
    double wb = 32.0 * (double)p->ublock_d / 8.0, cycles = 0;
    for (int64_t y0 = 0; y0 < j->kh; y0 += 8) {
        for (int64_t x0 = 0; x0 < j->kw; x0 += 8) {
            int64_t k = min64(j->kh - y0, 8) * min64(j->kw - x0, 8), steps;
            double c;
            if (j->kind == JOB_POOL) {
                steps = 1;
                c = (double)(max64(4, k) * n_xy * n_z);
            } else if (j->kind == JOB_DEPTHWISE) {
                steps = div_up(k, 4);
                c = fmax(wb, 4.0 * (double)n_xy) * (double)(steps * n_z);
            } else if (b->part_kernel) {
                steps = div_up(k, 4);
                c = fmax(wb, 4.0 * (double)n_xy) * (double)(steps * div_up(b->id, 8) * n_z);
            } else {
                steps = k;
                c = fmax(wb, 4.0 * (double)n_xy) * (double)(steps * n_z);
            }
            if (n_xy == 1 && n_z == 1) /* a single micro-block waits on the accumulators */
                c += 2.0 * (double)steps;
            else if (n_xy == 1 && steps > 1)
                c += 2.0 * (double)((steps - 1) * n_z);
            cycles += c;
        }
    }
    if (j->kind == JOB_CONV || j->kind == JOB_VECTOR)
        cycles *= (double)div_up(j->ic, b->id);
    return cycles / p->n_cores;
}

/* Where a feature map of bytes lives: a tensor shared with the CPU in the arena, an NPU one in the SRAM cache if it fits. */
static evo_npu_mem fm_place(const evo_npu_perf *p, double bytes, bool shared)
{
    return !shared && p->fm_cache_bytes > 0 && bytes <= p->fm_cache_bytes ? EVO_NPU_MEM_SRAM : p->fm_mem;
}

static void add_traffic(const evo_npu_perf *p, job_cost *c, evo_npu_mem m, double bytes, double burst)
{
    c->mem_bytes[m] += bytes;
    c->mem_cycles[m] += bytes * burst_factor(&p->mem[m], burst) / p->mem[m].bytes_per_cycle;
}

static void cost_job(const evo_npu_perf *p, const job *j, job_cost *c)
{
    memset(c, 0, sizeof(*c));
    double in_elems = (double)(j->ih * j->iw * j->ic), out_elems = (double)(j->oh * j->ow * j->oc);
    if (out_elems <= 0 || j->ih <= 0 || j->iw <= 0 || j->ic <= 0 || j->sh <= 0 || j->sw <= 0)
        return; /* no work (or shapes not known): nothing to estimate */
    evo_npu_mem ifm_mem = fm_place(p, in_elems, j->ifm_shared), ofm_mem = fm_place(p, out_elems, j->ofm_shared);
    blk b = choose_block(p, j);
    double wh_blocks = (double)(div_up(j->oh, b.h) * div_up(j->ow, b.w));
    double n_blocks = wh_blocks * (double)div_up(j->oc, b.d);
    double lat = block_latency(p, ifm_mem, ofm_mem, j, &b);
    double in_burst = read_burst(j, &b), out_burst = write_burst(p, j, &b);
    if (j->kind == JOB_ELEMENTWISE || j->kind == JOB_COPY) {
        double e = per_element(p, j), blk_elems = (double)(b.w * b.h * b.d);
        double cmd = (lat + e * blk_elems) / 4.0 / blk_elems;
        c->npu = out_elems * fmax(e, cmd);
        add_traffic(p, c, ifm_mem, in_elems, in_burst);
        if (j->n_ifm2 == 2)
            add_traffic(p, c, ifm_mem, out_elems, in_burst);
        add_traffic(p, c, ofm_mem, out_elems, out_burst);
        return;
    }
    double dpu = dpu_block_cycles(p, j, &b);
    double out = ceil(per_element(p, j) * (double)(min64(b.h, j->oh) * min64(b.w, j->ow) * min64(b.d, j->oc)));
    double cmd = (lat + dpu + out) / 4.0;
    dpu = fmax(dpu, cmd);
    out = fmax(out, cmd);
    c->npu = dpu > out ? dpu * n_blocks + out : out * n_blocks + dpu;
    /* input: each block reads its (overlapping) input window; a conv reads it again per output depth slice */
    double ifm_read = (double)(min64(b.ih, j->ih) * min64(b.iw, j->iw)) *
                      (double)(j->ifm_shared ? j->ic : round_up(j->ic, 16)) * wh_blocks; /* bricks hold 16 channels */
    if (j->kind == JOB_CONV || j->kind == JOB_VECTOR)
        ifm_read *= (double)div_up(j->oc, b.d);
    add_traffic(p, c, ifm_mem, fmin(ifm_read, in_elems * 64), in_burst);
    add_traffic(p, c, ofm_mem, out_elems, out_burst);
    if (j->weight_bytes > 0) {
        /* weights stream once from their memory (into an SRAM buffer when they are not there) */
        const evo_npu_port *wm = &p->mem[p->weight_mem];
        double stream = wm->read_latency + j->weight_bytes / wm->bytes_per_cycle;
        c->mem_bytes[p->weight_mem] += j->weight_bytes;
        c->mem_cycles[p->weight_mem] += stream;
    }
}

/* ---- weights ---- */

double evo_npu_weight_bytes(const void *w, bool is_unsigned, int64_t n, int64_t per_channel, int zp)
{
    if (n <= 0)
        return 0;
    per_channel = per_channel > 0 ? per_channel : n;
    int64_t chunk = per_channel * 16;
    double bits = 0;
    for (int64_t s = 0; s < n; s += chunk) {
        int64_t e = min64(n, s + chunk);
        double best = 8.0 * (double)(e - s);
        for (int k = 0; k < 6; k++) {
            double sum = 0;
            for (int64_t i = s; i < e; i++) {
                int v = (is_unsigned ? (int)((const uint8_t *)w)[i] : (int)((const int8_t *)w)[i]) - zp;
                unsigned u = v >= 0 ? 2u * (unsigned)v : 2u * (unsigned)(-v) - 1u; /* zigzag */
                sum += 1.0 + k + (double)(u >> k);
            }
            best = fmin(best, sum);
        }
        bits += best;
    }
    return bits / 8.0;
}

/* ---- from evo nodes to jobs ---- */

static const evo_value *value_at(const evo_graph *g, const evo_node *n, int i, bool out)
{
    int id = out ? (i < n->n_out ? n->out[i] : -1) : (i < n->n_in ? n->in[i] : -1);
    return id >= 0 ? &g->values[id] : NULL;
}

/* The NHWC view TFLite takes of an evo tensor (channels are evo's axis 1). */
static void nhwc(const evo_value *v, int64_t *h, int64_t *w, int64_t *c)
{
    *h = *w = *c = 1;
    if (!v || v->rank <= 0)
        return;
    if (v->rank == 1) {
        *c = v->dims[0];
        return;
    }
    *c = v->dims[1];
    *w = v->rank > 2 ? v->dims[v->rank - 1] : v->dims[0];
    for (int d = 2; d < v->rank - 1; d++)
        *h *= v->dims[d];
    if (v->rank == 2)
        *c = v->dims[1];
}

static void job_io(job *j, const evo_value *x, const evo_value *y)
{
    nhwc(x ? x : y, &j->ih, &j->iw, &j->ic);
    nhwc(y ? y : x, &j->oh, &j->ow, &j->oc);
    j->kh = j->kw = j->sh = j->sw = 1;
    j->upscale = 1;
}

/* Encoded bytes of a conv's or matmul's weights (value w, zero point wzp) plus 10 bytes of scale and bias per output. */
static double conv_weight_bytes(const evo_value *w, const evo_value *wzp, int64_t n_out, int64_t per_channel)
{
    if (!w || !w->data || (w->dtype != EVO_DTYPE_INT8 && w->dtype != EVO_DTYPE_UINT8))
        return 10.0 * (double)n_out;
    int zp = 0;
    if (wzp && wzp->data && evo_value_count(wzp) >= 1)
        zp = wzp->dtype == EVO_DTYPE_UINT8 ? ((const uint8_t *)wzp->data)[0] : ((const int8_t *)wzp->data)[0];
    return evo_npu_weight_bytes(w->data, w->dtype == EVO_DTYPE_UINT8, evo_value_count(w), per_channel, zp) +
           10.0 * (double)n_out;
}

typedef struct job_sink {
    const evo_npu_perf *perf;
    evo_npu_node_cost *node;
    double best;              /* cycles of the node's largest job, for its bound */
    const bool *shared;       /* per value: produced or read by the CPU, or a graph input/output */
    bool ifm_shared, ofm_shared; /* of the job being run */
} job_sink;

static void run_job(job_sink *s, const job *jin)
{
    const evo_npu_perf *p = s->perf;
    job jc = *jin, *j = &jc;
    j->ifm_shared = s->ifm_shared;
    j->ofm_shared = s->ofm_shared;
    job_cost c;
    cost_job(p, j, &c);
    double cycles = c.npu;
    evo_npu_bound bound = EVO_NPU_BOUND_COMPUTE;
    static const evo_npu_bound mem_bound[] = {EVO_NPU_BOUND_SRAM, EVO_NPU_BOUND_DRAM, EVO_NPU_BOUND_FLASH};
    for (int m = 0; m < EVO_NPU_MEM_COUNT; m++) {
        s->node->mem_bytes[m] += c.mem_bytes[m];
        s->node->mem_cycles[m] += c.mem_cycles[m];
        if (c.mem_cycles[m] > cycles) {
            cycles = c.mem_cycles[m];
            bound = mem_bound[m];
        }
    }
    s->node->npu_cycles += c.npu;
    s->node->cycles += cycles;
    if (cycles > s->best) {
        s->best = cycles;
        s->node->bound = bound;
    }
}

static evo_npu_act_class fused_class(const evo_npu_desc *d)
{
    if (!d->has[EVO_NPU_P_FUSED_ACT] || d->v[EVO_NPU_P_FUSED_ACT] == EVO_NPU_ACT_NONE)
        return EVO_NPU_ACTC_NONE;
    return EVO_NPU_ACTC_CLAMP;
}

static void conv_jobs(job_sink *s, const evo_graph *g, const evo_node *n, const evo_npu_desc *d, bool table_act)
{
    const evo_value *x = value_at(g, n, 0, false), *w = value_at(g, n, 3, false), *y = value_at(g, n, 0, true);
    job j = {0};
    job_io(&j, x, y);
    if (d->op == EVO_NPU_OP_FULLY_CONNECTED) {
        j.kind = JOB_VECTOR;
        j.ic = w && w->rank == 2 ? w->dims[0] : j.ic;
        j.oc = w && w->rank == 2 ? w->dims[1] : j.oc;
        j.ih = j.oh = 1;
        j.iw = j.ow = j.oc > 0 && y ? max64(1, evo_value_count(y) / j.oc) : 1;
        j.weight_bytes = conv_weight_bytes(w, value_at(g, n, 5, false), j.oc, 0);
        j.macs = (double)(j.ic * j.oc * j.ow);
    } else {
        const evo_conv_attrs *a = &n->a.conv;
        j.kind = d->op == EVO_NPU_OP_DEPTHWISE_CONV_2D ? JOB_DEPTHWISE : JOB_CONV;
        j.kh = (a->kernel[0] - 1) * a->dilation[0] + 1;
        j.kw = (a->kernel[1] - 1) * a->dilation[1] + 1;
        j.sh = a->stride[0];
        j.sw = a->stride[1];
        int64_t per = w && w->rank > 0 && w->dims[0] > 0 ? evo_value_count(w) / w->dims[0] : 0;
        j.weight_bytes = conv_weight_bytes(w, value_at(g, n, 5, false), j.oc, per);
        j.macs = (double)(j.oh * j.ow * j.oc * a->kernel[0] * a->kernel[1]) *
                 (double)(j.kind == JOB_DEPTHWISE ? 1 : j.ic);
    }
    j.out = EVO_NPU_OUT_CONV;
    j.act = table_act ? EVO_NPU_ACTC_LUT : fused_class(d);
    run_job(s, &j);
}

static bool is_table(evo_npu_op op)
{
    return op == EVO_NPU_OP_LOGISTIC || op == EVO_NPU_OP_TANH || op == EVO_NPU_OP_HARD_SWISH ||
           op == EVO_NPU_OP_LEAKY_RELU;
}

static void elementwise_job(job_sink *s, const evo_value *x, const evo_value *y, const evo_npu_desc *d, int n_ifm2)
{
    job j = {0};
    job_io(&j, x, y);
    j.kind = JOB_ELEMENTWISE;
    j.n_ifm2 = n_ifm2;
    j.ih = j.oh, j.iw = j.ow, j.ic = j.oc;
    switch (d->op) {
    case EVO_NPU_OP_ADD: j.out = EVO_NPU_OUT_ADD, j.act = fused_class(d); break;
    case EVO_NPU_OP_MUL: j.out = EVO_NPU_OUT_MUL, j.act = fused_class(d); break;
    default: j.out = EVO_NPU_OUT_CONV, j.act = EVO_NPU_ACTC_LUT; break; /* table activations */
    }
    run_job(s, &j);
}

static void copy_job(job_sink *s, const evo_value *v, bool transposed)
{
    job j = {0};
    job_io(&j, v, v);
    j.kind = JOB_COPY;
    j.transposed = transposed;
    j.out = EVO_NPU_OUT_CONV;
    run_job(s, &j);
}

static void pool_job(job_sink *s, const evo_graph *g, const evo_node *n, const evo_npu_desc *d)
{
    const evo_value *x = value_at(g, n, 0, false), *y = value_at(g, n, 0, true);
    job j = {0};
    job_io(&j, x, y);
    j.kind = JOB_POOL;
    j.out = d->op == EVO_NPU_OP_MAX_POOL_2D ? EVO_NPU_OUT_MAXPOOL : EVO_NPU_OUT_CONV;
    if (d->op == EVO_NPU_OP_MAX_POOL_2D) {
        j.kh = n->a.pool.kernel[0], j.kw = n->a.pool.kernel[1];
        j.sh = n->a.pool.stride[0], j.sw = n->a.pool.stride[1];
    } else if (d->op == EVO_NPU_OP_MEAN) {
        j.kh = j.ih, j.kw = j.iw, j.sh = j.ih, j.sw = j.iw;
    } else { /* nearest resize: a 1x1 pool over the output reading repeated input pixels */
        j.upscale = j.ih > 0 && j.oh > j.ih ? (int)(j.oh / j.ih) : 1;
    }
    run_job(s, &j);
}

/* Every job of one NPU node. */
static void node_jobs(job_sink *s, const evo_graph *g, const evo_node *n)
{
    evo_npu_node_desc nd;
    evo_npu_describe(g, n, &nd);
    const evo_value *y = value_at(g, n, 0, true);
    bool has_conv = false, x_shared = n->n_in > 0 && n->in[0] >= 0 && s->shared[n->in[0]];
    bool y_shared = n->n_out > 0 && n->out[0] >= 0 && s->shared[n->out[0]];
    int first = 0;
    for (int k = 0; k < nd.n_parts; k++)
        has_conv |= nd.parts[k].op == EVO_NPU_OP_CONV_2D || nd.parts[k].op == EVO_NPU_OP_DEPTHWISE_CONV_2D;
    if (has_conv && nd.parts[0].op == EVO_NPU_OP_PAD)
        first = 1; /* the padding is the conv's */
    for (int k = 0; k < nd.n_parts; k++) {
        const evo_npu_desc *d = &nd.parts[k];
        /* the node's input and output are where the CPU may meet them; between its operators, NPU tensors */
        s->ifm_shared = k == first && x_shared;
        s->ofm_shared = k == nd.n_parts - 1 && y_shared;
        switch (d->op) {
        case EVO_NPU_OP_CONV_2D:
        case EVO_NPU_OP_DEPTHWISE_CONV_2D:
        case EVO_NPU_OP_FULLY_CONNECTED: {
            /* a table activation that is the conv's last operator runs in its output unit */
            bool fuse = k + 2 == nd.n_parts && is_table(nd.parts[k + 1].op);
            s->ofm_shared = (fuse || k == nd.n_parts - 1) && y_shared;
            conv_jobs(s, g, n, d, fuse);
            k += fuse;
            break;
        }
        case EVO_NPU_OP_ADD:
        case EVO_NPU_OP_MUL: {
            if (d->role) { /* a part of a fused activation: on the node's output */
                elementwise_job(s, y, y, d, d->has[EVO_NPU_P_IFM2_CONST_C] && d->v[EVO_NPU_P_IFM2_CONST_C] ? 1 : 2);
                break;
            }
            const evo_value *b = value_at(g, n, 3, false);
            elementwise_job(s, value_at(g, n, 0, false), y, d, b && evo_value_count(b) == 1 ? 1 : 2);
            break;
        }
        case EVO_NPU_OP_LOGISTIC:
        case EVO_NPU_OP_TANH:
        case EVO_NPU_OP_HARD_SWISH:
        case EVO_NPU_OP_LEAKY_RELU: elementwise_job(s, y, y, d, 0); break;
        case EVO_NPU_OP_MAX_POOL_2D:
        case EVO_NPU_OP_AVERAGE_POOL_2D:
        case EVO_NPU_OP_MEAN:
        case EVO_NPU_OP_RESIZE_NEAREST_NEIGHBOR: pool_job(s, g, n, d); break;
        case EVO_NPU_OP_CONCATENATION: /* each input is copied into its slice of the output */
            for (int i = n->op == EVO_OP_QLINEAR_CONCAT ? 2 : 0; i < n->n_in; i += n->op == EVO_OP_QLINEAR_CONCAT ? 3 : 1) {
                s->ifm_shared = n->in[i] >= 0 && s->shared[n->in[i]];
                copy_job(s, value_at(g, n, i, false), false);
            }
            break;
        case EVO_NPU_OP_SPLIT:
        case EVO_NPU_OP_SPLIT_V:
            for (int i = 0; i < n->n_out; i++) {
                s->ofm_shared = n->out[i] >= 0 && s->shared[n->out[i]];
                copy_job(s, value_at(g, n, i, true), false);
            }
            break;
        case EVO_NPU_OP_PAD: /* padding before a conv is the conv's; a Pad node copies */
            if (!has_conv)
                copy_job(s, y, false);
            break;
        case EVO_NPU_OP_STRIDED_SLICE:
        case EVO_NPU_OP_DEPTH_TO_SPACE:
        case EVO_NPU_OP_SPACE_TO_DEPTH: copy_job(s, y, false); break;
        case EVO_NPU_OP_TRANSPOSE: copy_job(s, y, true); break;
        case EVO_NPU_OP_RESHAPE: break; /* no data moves */
        default: copy_job(s, y, false); break; /* an operator without a model of its own: at least a copy */
        }
    }
}

/* Per value: is it a graph input or output, or written or read by a node on the CPU? NULL when out of memory. */
static bool *mark_shared(const evo_graph *g, const evo_npu_placement *pl)
{
    bool *shared = calloc((size_t)g->n_values + 1, 1), *npu = calloc((size_t)g->n_nodes + 1, 1);
    if (!shared || !npu) {
        free(shared);
        free(npu);
        return NULL;
    }
    for (int i = 0; i < pl->n_nodes; i++)
        npu[pl->nodes[i].node] = pl->nodes[i].on_npu;
    for (int v = 0; v < g->n_values; v++)
        shared[v] = g->values[v].is_input || g->values[v].is_output;
    for (int i = 0; i < g->n_nodes; i++) {
        const evo_node *n = &g->nodes[i];
        if (n->is_dead || npu[i])
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                shared[n->in[k]] = true;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                shared[n->out[k]] = true;
    }
    free(npu);
    return shared;
}

evo_status evo_npu_estimate_graph(const evo_graph *g, const evo_npu_placement *pl, evo_npu_estimate *out,
                                  evo_error *err)
{
    memset(out, 0, sizeof(*out));
    const evo_npu_perf *p = evo_npu_perf_find(pl->target);
    if (!p)
        return evo_errorf(err, EVO_ERR_UNSUPPORTED, "target %s: no performance model (an NPU target is needed)",
                          pl->target ? pl->target->name : "?");
    return evo_npu_estimate_graph_with(g, pl, p, out, err);
}

evo_status evo_npu_estimate_graph_with(const evo_graph *g, const evo_npu_placement *pl, const evo_npu_perf *p,
                                       evo_npu_estimate *out, evo_error *err)
{
    memset(out, 0, sizeof(*out));
    out->perf = p;
    out->nodes = calloc((size_t)pl->n_nodes + 1, sizeof(*out->nodes));
    if (!out->nodes)
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory estimating %d nodes", g->file, pl->n_nodes);
    out->n_nodes = pl->n_nodes;
    bool *shared = mark_shared(g, pl);
    if (!shared) {
        evo_npu_estimate_free(out);
        return evo_errorf(err, EVO_ERR_NOMEM, "%s: out of memory estimating %d nodes", g->file, pl->n_nodes);
    }
    for (int i = 0; i < pl->n_nodes; i++) {
        const evo_npu_place *pn = &pl->nodes[i];
        evo_npu_node_cost *c = &out->nodes[i];
        c->node = pn->node;
        c->on_npu = pn->on_npu;
        c->macs = pn->macs;
        if (!pn->on_npu) {
            out->n_cpu_nodes++;
            continue;
        }
        job_sink s = {p, c, -1, shared, false, false};
        node_jobs(&s, g, &g->nodes[pn->node]);
        out->macs_npu += c->macs;
        out->npu_cycles += c->npu_cycles;
        out->total_cycles += c->cycles;
        for (int m = 0; m < EVO_NPU_MEM_COUNT; m++) {
            out->mem_cycles[m] += c->mem_cycles[m];
            out->mem_bytes[m] += c->mem_bytes[m];
        }
    }
    free(shared);
    out->memory_bound_cycles = out->total_cycles - out->npu_cycles;
    out->ms = 1e3 * out->total_cycles / p->clock_hz;
    out->inferences_per_s = out->total_cycles > 0 ? p->clock_hz / out->total_cycles : 0;
    return EVO_OK;
}

void evo_npu_estimate_free(evo_npu_estimate *e)
{
    if (!e)
        return;
    free(e->nodes);
    e->nodes = NULL;
    e->n_nodes = 0;
}
