/*
 * d2s_ref.c - reference DepthToSpace and SpaceToDepth as 6-D strided copies
 * (the reshape + transpose + reshape of the ONNX definition):
 *   DCR: out[n, c, h*b+i, w*b+j] = in[n, (i*b+j)*C' + c, h, w]
 *   CRD: out[n, c, h*b+i, w*b+j] = in[n, c*b*b + i*b + j, h, w]
 *   SpaceToDepth: out[n, (i*b+j)*C + c, h, w] = in[n, c, h*b+i, w*b+j]
 * The output is walked as [N, C', H, b, W, b] (or [N, b, b, C, H', W']).
 */
#include "kernels/tensor_ref.h"

static void d2s_ref(const evo_kernel_args *a, int task, int n_tasks)
{
    const evo_tensor *in = &a->in[0], *out = &a->out[0];
    int64_t b = a->node->a.d2s.blocksize;
    int64_t n = in->dims[0], c = in->dims[1], h = in->dims[2], w = in->dims[3];
    int64_t hw = h * w, chw = c * hw, dims[6], strides[6];
    if (a->node->op == EVO_OP_DEPTH_TO_SPACE) {
        int64_t oc = c / (b * b);
        // output order: n, c', h, i, w, j
        int64_t s_c = a->node->a.d2s.crd ? b * b * hw : hw;
        int64_t s_i = a->node->a.d2s.crd ? b * hw : b * oc * hw;
        int64_t s_j = a->node->a.d2s.crd ? hw : oc * hw;
        int64_t d[6] = {n, oc, h, b, w, b}, st[6] = {chw, s_c, w, s_i, 1, s_j};
        for (int k = 0; k < 6; k++) {
            dims[k] = d[k];
            strides[k] = st[k];
        }
    } else {
        int64_t ow = w / b, iw = w;
        // output order: n, i, j, c, h', w'; input [n, c, h'*b+i, w'*b+j]
        int64_t d[6] = {n, b, b, c, h / b, ow}, st[6] = {chw, iw, 1, hw, b * iw, b};
        for (int k = 0; k < 6; k++) {
            dims[k] = d[k];
            strides[k] = st[k];
        }
    }
    evo_strided_copy(out->data, in->data, dims, strides, 6, evo_dtype_size(in->dtype), task, n_tasks);
}

const evo_kernel_def evo_kernel_d2s_ref = {.name = "ref", .isa = EVO_ISA_REF, .run = d2s_ref};
