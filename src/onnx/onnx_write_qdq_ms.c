/*
 * onnx_write_qdq_ms.c - ONNX Runtime's com.microsoft quantized ops in QDQ
 * form, so the export holds standard ops only: QLinearAdd / QLinearMul,
 * QLinearSigmoid, QLinearLeakyRelu, QLinearConcat, QLinearAveragePool and
 * QLinearGlobalAveragePool become a DequantizeLinear per quantized input
 * (per tensor, as these ops are), the float op with the same attributes,
 * and a QuantizeLinear to the output's scale and zero point, which is how
 * ONNX Runtime defines them. A QLinearAdd/QLinearMul's fused ReLU/Clip
 * (evo quantize's) goes between the float op and the QuantizeLinear.
 */
#include "onnx/onnx_write_priv.h"

#include <string.h>

#define MS_MAX_IN 64

typedef struct ms_form {
    const char *op;      /* the float op */
    int data[MS_MAX_IN]; /* input index of each quantized operand; its scale and zp follow it */
    int n_data;
    int y_scale; /* input index of the output scale; its zero point follows */
} ms_form;

/* The QDQ form of n, or false when n is not one of these ops. */
static bool ms_form_of(const evo_node *n, ms_form *f)
{
    memset(f, 0, sizeof(*f));
    switch (n->op) {
    case EVO_OP_QLINEAR_ADD:
    case EVO_OP_QLINEAR_MUL:
        *f = (ms_form){n->op == EVO_OP_QLINEAR_ADD ? "Add" : "Mul", {0, 3}, 2, 6};
        return true;
    case EVO_OP_QLINEAR_SIGMOID: *f = (ms_form){"Sigmoid", {0}, 1, 3}; return true;
    case EVO_OP_QLINEAR_LEAKY_RELU: *f = (ms_form){"LeakyRelu", {0}, 1, 3}; return true;
    case EVO_OP_QLINEAR_GLOBAL_AVERAGE_POOL: *f = (ms_form){"GlobalAveragePool", {0}, 1, 3}; return true;
    case EVO_OP_QLINEAR_AVERAGE_POOL: *f = (ms_form){"AveragePool", {0}, 1, 3}; return true;
    case EVO_OP_QLINEAR_CONCAT:
        f->op = "Concat";
        f->y_scale = 0;
        for (int i = 2; i < n->n_in && f->n_data < MS_MAX_IN; i += 3)
            f->data[f->n_data++] = i;
        return true;
    default: return false;
    }
}

bool ow_is_qdq_ms(const evo_node *n)
{
    ms_form f;
    return ms_form_of(n, &f);
}

/* Optional input i of n: its name, or "" when absent. */
static const char *opt_in(ow_model *m, const evo_node *n, int i)
{
    return i < n->n_in ? ow_value(m, n->in[i]) : "";
}

/* Checks the scale at input i is a constant float32 with one element. */
static evo_status check_scale(ow_model *m, const evo_node *n, int i)
{
    const evo_value *s = i < n->n_in && n->in[i] >= 0 ? &m->g->values[n->in[i]] : NULL;
    if (!s || !s->data || s->dtype != EVO_DTYPE_FLOAT || evo_value_count(s) != 1)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                               "QDQ form needs a constant float32 per-tensor scale at input %d", i);
    return EVO_OK;
}

/* The float op's attributes: n's own, without channels_last (refused when set). */
static evo_status float_attrs(ow_model *m, const evo_node *n, ow_node *o)
{
    if (!ow_attrs(m, o, n->n_attrs))
        return ow_nomem(m, n);
    int k = 0;
    for (int i = 0; i < n->n_attrs; i++) {
        const evo_attr *a = &n->attrs[i];
        if (strcmp(a->name, "channels_last") == 0) {
            if (a->type == EVO_ATTR_INT && a->i != 0)
                return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED,
                                       "channels_last pooling has no QDQ form");
            continue;
        }
        if (a->type != EVO_ATTR_INT && a->type != EVO_ATTR_INTS && a->type != EVO_ATTR_FLOAT &&
            a->type != EVO_ATTR_STRING)
            return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "attribute \"%s\" cannot be written",
                                   a->name);
        o->attrs[k++] = *a;
    }
    o->n_attrs = k;
    return EVO_OK;
}

evo_status ow_emit_qdq_ms(ow_model *m, const evo_node *n)
{
    ms_form f;
    if (!ms_form_of(n, &f) || n->n_out != 1 || n->out[0] < 0 || f.n_data < 1 || f.y_scale >= n->n_in)
        return evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "no QDQ form for this node");
    evo_status s = check_scale(m, n, f.y_scale);
    for (int k = 0; k < f.n_data && !s; k++)
        s = n->in[f.data[k]] < 0
                ? evo_node_errorf(m->err, m->g, n, EVO_ERR_UNSUPPORTED, "input %d is absent", f.data[k])
                : check_scale(m, n, f.data[k] + 1);
    if (s)
        return s;
    ow_node *o = ow_add(m, f.op, n->name, f.n_data, 1);
    const char *acc = ow_fresh(m, n->name, "float");
    if (!o || !acc)
        return ow_nomem(m, n);
    int at = m->n_nodes - 1; /* the DequantizeLinear nodes go before it */
    if ((s = float_attrs(m, n, o)))
        return s;
    for (int k = 0; k < f.n_data; k++) {
        int i = f.data[k];
        const char *zp = opt_in(m, n, i + 2), *y = ow_fresh(m, n->name, "dq");
        ow_node *d =
            ow_add(m, "DequantizeLinear", ow_fresh(m, n->name, "DequantizeLinear"), zp[0] ? 3 : 2, 1);
        if (!d || !y)
            return ow_nomem(m, n);
        d->in[0] = ow_value(m, n->in[i]);
        d->in[1] = ow_value(m, n->in[i + 1]);
        if (zp[0])
            d->in[2] = zp;
        d->out[0] = y;
        m->nodes[at].in[k] = y;
    }
    m->nodes[at].out[0] = acc;
    const evo_qbinary_attrs *qa = &n->a.qbinary;
    if ((n->op == EVO_OP_QLINEAR_ADD || n->op == EVO_OP_QLINEAR_MUL) && qa->act != EVO_ACT_NONE) {
        /* the fused ReLU/Clip before the output's QuantizeLinear */
        const char *t = ow_fresh(m, n->name, "act");
        if (!t)
            return ow_nomem(m, n);
        if ((s = ow_emit_act(m, n, qa->act, qa->act_alpha, qa->act_beta, acc, t)))
            return s;
        acc = t;
    }
    const char *yzp = opt_in(m, n, f.y_scale + 1);
    ow_node *q = ow_add(m, "QuantizeLinear", ow_fresh(m, n->name, "QuantizeLinear"), yzp[0] ? 3 : 2, 1);
    if (!q)
        return ow_nomem(m, n);
    q->in[0] = acc;
    q->in[1] = ow_value(m, n->in[f.y_scale]);
    if (yzp[0])
        q->in[2] = yzp;
    q->out[0] = ow_value(m, n->out[0]);
    /* topological order: the float op after its DequantizeLinear nodes */
    ow_node op = m->nodes[at];
    memmove(&m->nodes[at], &m->nodes[at + 1], sizeof(ow_node) * (size_t)f.n_data);
    m->nodes[at + f.n_data] = op;
    return EVO_OK;
}
