/*
 * _evo.c - the CPython extension behind the evo package: thin types over the
 * C API of include/evo.h (Model, Session, Detector) plus a buffer type that
 * exposes session tensors to numpy without copying.
 *
 * Ownership mirrors the C API through Python references: a Session holds its
 * Model, a Buffer holds the Session whose arena it points into, a Detector
 * holds its Model; so any order of Python drops is safe. The GIL is released
 * around every evo_session_run / evo_detector_run; a busy flag (read and set
 * under the GIL) refuses a second thread on the same session instead of
 * letting two runs race on one arena. No numpy C API: numpy builds its arrays
 * from the buffer protocol, so the module builds without numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "evo.h"
#include "core/core.h"
#include "vision/vision.h"

#include <string.h>

static PyObject *g_raise; /* evo._errors.raise_status(code, name, msg), set at import */

/* Raises the evo.Error subclass for err's status with the C message. */
static PyObject *raise_evo(evo_status code, const char *msg)
{
    if (!g_raise) {
        PyErr_SetString(PyExc_RuntimeError, msg);
        return NULL;
    }
    PyObject *r = PyObject_CallFunction(g_raise, "iss", (int)code, evo_status_name(code), msg);
    Py_XDECREF(r); /* raise_status raises; the NULL result carries the exception */
    return NULL;
}

/* ---- Buffer: a numpy-visible view of session memory ---- */

typedef struct {
    PyObject_HEAD
    PyObject *owner; /* keeps the session (and so its arena) alive */
    void *ptr;
    int ndim;
    Py_ssize_t shape[EVO_MAX_RANK];
    Py_ssize_t strides[EVO_MAX_RANK];
    Py_ssize_t itemsize, len;
    const char *format;
    int readonly;
} BufferObject;

static int buffer_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    BufferObject *b = (BufferObject *)self;
    if ((flags & PyBUF_WRITABLE) && b->readonly) {
        PyErr_SetString(PyExc_BufferError, "evo: session outputs are read-only");
        return -1;
    }
    view->obj = Py_NewRef(self);
    view->buf = b->ptr;
    view->len = b->len;
    view->readonly = b->readonly;
    view->itemsize = b->itemsize;
    view->format = (flags & PyBUF_FORMAT) ? (char *)b->format : NULL;
    view->ndim = b->ndim;
    view->shape = (flags & PyBUF_ND) ? b->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) ? b->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}

static void buffer_dealloc(PyObject *self)
{
    Py_XDECREF(((BufferObject *)self)->owner);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs buffer_procs = {buffer_getbuffer, NULL};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "evo._evo.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = buffer_dealloc,
    .tp_as_buffer = &buffer_procs,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A tensor inside an evo session's arena, exported through the buffer protocol.",
};

/* Returns the struct-module format of an evo dtype, NULL if numpy has none. */
static const char *dtype_format(evo_dtype t)
{
    switch (t) {
    case EVO_DTYPE_FLOAT: return "f";
    case EVO_DTYPE_UINT8: return "B";
    case EVO_DTYPE_INT8: return "b";
    case EVO_DTYPE_UINT16: return "H";
    case EVO_DTYPE_INT16: return "h";
    case EVO_DTYPE_INT32: return "i";
    case EVO_DTYPE_INT64: return "q";
    case EVO_DTYPE_BOOL: return "?";
    case EVO_DTYPE_FLOAT16: return "e";
    case EVO_DTYPE_DOUBLE: return "d";
    case EVO_DTYPE_UINT32: return "I";
    case EVO_DTYPE_UINT64: return "Q";
    default: return NULL;
    }
}

static PyObject *buffer_new(PyObject *owner, void *ptr, const evo_tensor_desc *d, int readonly)
{
    const char *fmt = dtype_format(d->dtype);
    if (!fmt)
        return raise_evo(EVO_ERR_UNSUPPORTED, "tensor dtype has no numpy equivalent");
    BufferObject *b = PyObject_New(BufferObject, &BufferType);
    if (!b)
        return NULL;
    b->owner = Py_NewRef(owner);
    b->ptr = ptr;
    b->ndim = d->rank;
    b->itemsize = (Py_ssize_t)evo_dtype_size(d->dtype);
    b->len = (Py_ssize_t)d->size_bytes;
    b->format = fmt;
    b->readonly = readonly;
    Py_ssize_t stride = b->itemsize;
    for (int k = d->rank - 1; k >= 0; k--) {
        b->shape[k] = (Py_ssize_t)d->dims[k];
        b->strides[k] = stride;
        stride *= (Py_ssize_t)d->dims[k];
    }
    return (PyObject *)b;
}

/* ---- Model ---- */

typedef struct {
    PyObject_HEAD
    evo_model *model;
} ModelObject;

static PyObject *desc_tuple(const evo_tensor_desc *d)
{
    PyObject *dims = PyTuple_New(d->rank);
    if (!dims)
        return NULL;
    for (int k = 0; k < d->rank; k++)
        PyTuple_SET_ITEM(dims, k, PyLong_FromLongLong(d->dims[k]));
    return Py_BuildValue("(sNsn)", d->name ? d->name : "", dims, evo_dtype_name(d->dtype),
                         (Py_ssize_t)d->size_bytes);
}

/* Model(path, input_shapes=[(name, dims), ...], disable_passes=None) */
static int model_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"path", "input_shapes", "disable_passes", "default_batch", NULL};
    ModelObject *m = (ModelObject *)self;
    PyObject *path_obj = NULL, *shapes = Py_None;
    const char *disable = NULL;
    long long batch = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|OzL", names, PyUnicode_FSConverter, &path_obj, &shapes,
                                     &disable, &batch))
        return -1;
    if (m->model) { /* sessions may hold the loaded model: never swap it */
        Py_DECREF(path_obj);
        PyErr_SetString(PyExc_RuntimeError, "model already loaded");
        return -1;
    }
    evo_input_shape is[16];
    PyObject *seq = NULL;
    int n = 0, rc = -1;
    if (shapes != Py_None) {
        if (!(seq = PySequence_Fast(shapes, "input_shapes must be a sequence of (name, dims)")))
            goto done;
        if (PySequence_Fast_GET_SIZE(seq) > 16) {
            PyErr_SetString(PyExc_ValueError, "at most 16 input shapes");
            goto done;
        }
        for (; n < (int)PySequence_Fast_GET_SIZE(seq); n++) {
            PyObject *dims = NULL;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, n), "sO", &is[n].name, &dims))
                goto done;
            PyObject *d = PySequence_Fast(dims, "input shape dims must be a sequence of ints");
            if (!d)
                goto done;
            Py_ssize_t rank = PySequence_Fast_GET_SIZE(d);
            if (rank > EVO_MAX_RANK) {
                Py_DECREF(d);
                PyErr_Format(PyExc_ValueError, "input %s: rank %zd, at most %d", is[n].name, rank, EVO_MAX_RANK);
                goto done;
            }
            is[n].rank = (int)rank;
            for (Py_ssize_t k = 0; k < rank; k++)
                is[n].dims[k] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(d, k));
            Py_DECREF(d);
            if (PyErr_Occurred())
                goto done;
        }
    }
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = n ? is : NULL;
    co.n_input_shapes = n;
    co.disable_passes = disable;
    co.default_batch = batch;
    evo_error err = {0};
    evo_model *model = NULL;
    evo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = evo_model_load(PyBytes_AS_STRING(path_obj), &co, &model, &err);
    Py_END_ALLOW_THREADS
    if (st != EVO_OK) {
        raise_evo(st, err.msg);
        goto done;
    }
    m->model = model;
    rc = 0;
done:
    Py_XDECREF(seq);
    Py_XDECREF(path_obj);
    return rc;
}

static void model_dealloc(PyObject *self)
{
    evo_model_free(((ModelObject *)self)->model);
    Py_TYPE(self)->tp_free(self);
}

static int model_ready(ModelObject *m)
{
    if (!m->model) {
        raise_evo(EVO_ERR_INVALID_ARG, "model is not loaded");
        return 0;
    }
    return 1;
}

/* _descs(outputs: bool) -> [(name, dims, dtype name, size_bytes), ...] */
static PyObject *model_descs(PyObject *self, PyObject *arg)
{
    ModelObject *m = (ModelObject *)self;
    if (!model_ready(m))
        return NULL;
    int outputs = PyObject_IsTrue(arg);
    int n = outputs ? evo_model_n_outputs(m->model) : evo_model_n_inputs(m->model);
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        evo_tensor_desc d;
        evo_status st = outputs ? evo_model_output_desc(m->model, i, &d) : evo_model_input_desc(m->model, i, &d);
        PyObject *t = st == EVO_OK ? desc_tuple(&d) : raise_evo(st, "tensor description");
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, t);
    }
    return list;
}

static PyMethodDef model_methods[] = {
    {"_descs", model_descs, METH_O, "_descs(outputs) -> list of (name, dims, dtype, size_bytes)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "evo._evo.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_dealloc = model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A compiled model (immutable, shared by its sessions).",
    .tp_methods = model_methods,
    .tp_init = model_init,
    .tp_new = PyType_GenericNew,
};

/* ---- Session ---- */

typedef struct {
    PyObject_HEAD
    evo_session *sess;
    PyObject *model; /* the ModelObject, alive as long as this session */
    int busy;
} SessionObject;

static int session_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"model", "threads", "isa", "profile", NULL};
    SessionObject *s = (SessionObject *)self;
    PyObject *model;
    int threads = 1, profile = 0;
    const char *isa = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|izp", names, &ModelType, &model, &threads, &isa, &profile))
        return -1;
    if (s->sess) {
        PyErr_SetString(PyExc_RuntimeError, "session already initialised");
        return -1;
    }
    if (!model_ready((ModelObject *)model))
        return -1;
    evo_session_options so = evo_session_options_default();
    so.n_threads = threads;
    so.isa = isa;
    so.profile = profile;
    evo_error err = {0};
    evo_status st = evo_session_create(((ModelObject *)model)->model, &so, &s->sess, &err);
    if (st != EVO_OK) {
        raise_evo(st, err.msg);
        return -1;
    }
    s->model = Py_NewRef(model);
    return 0;
}

static void session_dealloc(PyObject *self)
{
    SessionObject *s = (SessionObject *)self;
    evo_session_free(s->sess);
    Py_XDECREF(s->model);
    Py_TYPE(self)->tp_free(self);
}

/* Checks the session exists and index i is an input (outputs: an output); fills d. */
static int session_tensor(SessionObject *s, int i, int output, evo_tensor_desc *d)
{
    if (!s->sess) {
        raise_evo(EVO_ERR_INVALID_ARG, "session is not initialised");
        return 0;
    }
    const evo_model *m = ((ModelObject *)s->model)->model;
    evo_status st = output ? evo_model_output_desc(m, i, d) : evo_model_input_desc(m, i, d);
    if (st != EVO_OK) {
        PyErr_Format(PyExc_IndexError, "%s index %d out of range (the model has %d)", output ? "output" : "input",
                     i, output ? evo_model_n_outputs(m) : evo_model_n_inputs(m));
        return 0;
    }
    return 1;
}

static PyObject *session_input_buffer(PyObject *self, PyObject *arg)
{
    SessionObject *s = (SessionObject *)self;
    evo_tensor_desc d;
    int i = PyLong_AsLong(arg);
    if ((i == -1 && PyErr_Occurred()) || !session_tensor(s, i, 0, &d))
        return NULL;
    return buffer_new(self, evo_session_input_data(s->sess, i), &d, 0);
}

static PyObject *session_output_buffer(PyObject *self, PyObject *arg)
{
    SessionObject *s = (SessionObject *)self;
    evo_tensor_desc d;
    int i = PyLong_AsLong(arg);
    if ((i == -1 && PyErr_Occurred()) || !session_tensor(s, i, 1, &d))
        return NULL;
    return buffer_new(self, (void *)evo_session_output_data(s->sess, i), &d, 1);
}

/* _pointer(index, output) -> the address evo_session_{input,output}_data returns */
static PyObject *session_pointer(PyObject *self, PyObject *args)
{
    SessionObject *s = (SessionObject *)self;
    int i, output;
    evo_tensor_desc d;
    if (!PyArg_ParseTuple(args, "ip", &i, &output) || !session_tensor(s, i, output, &d))
        return NULL;
    const void *p = output ? evo_session_output_data(s->sess, i) : evo_session_input_data(s->sess, i);
    return PyLong_FromVoidPtr((void *)p);
}

/* Copies a C-contiguous buffer of exactly the input's byte size into input i (none if it is the input). */
static int session_set_input(SessionObject *s, int i, PyObject *obj)
{
    evo_tensor_desc d;
    if (!session_tensor(s, i, 0, &d))
        return -1;
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    int rc = 0;
    void *dst = evo_session_input_data(s->sess, i);
    if ((size_t)view.len != d.size_bytes) {
        PyErr_Format(PyExc_ValueError, "input %d (%s): %zd bytes given, expected %zu", i, d.name, view.len,
                     d.size_bytes);
        rc = -1;
    } else if (view.buf != dst) {
        memcpy(dst, view.buf, d.size_bytes);
    }
    PyBuffer_Release(&view);
    return rc;
}

/* Runs with the GIL released; the busy flag keeps other threads off this session meanwhile. */
static int session_run_locked(SessionObject *s)
{
    if (s->busy) {
        raise_evo(EVO_ERR_INVALID_ARG, "session is running in another thread: use one session per thread");
        return -1;
    }
    s->busy = 1;
    evo_error err = {0};
    evo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = evo_session_run(s->sess, &err);
    Py_END_ALLOW_THREADS
    s->busy = 0;
    if (st != EVO_OK) {
        raise_evo(st, err.msg);
        return -1;
    }
    return 0;
}

/* _run(inputs) -> None: inputs is a sequence of buffers (one per model input) or None */
static PyObject *session_run(PyObject *self, PyObject *inputs)
{
    SessionObject *s = (SessionObject *)self;
    if (!s->sess)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is not initialised");
    if (s->busy)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is running in another thread: use one session per thread");
    if (inputs != Py_None) {
        PyObject *seq = PySequence_Fast(inputs, "inputs must be a sequence");
        if (!seq)
            return NULL;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (session_set_input(s, (int)i, PySequence_Fast_GET_ITEM(seq, i)) < 0) {
                Py_DECREF(seq);
                return NULL;
            }
        }
        Py_DECREF(seq);
    }
    if (session_run_locked(s) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _bench(warmup, runs) -> list of per-run milliseconds of evo_session_run alone */
static PyObject *session_bench(PyObject *self, PyObject *args)
{
    SessionObject *s = (SessionObject *)self;
    int warmup, runs;
    if (!PyArg_ParseTuple(args, "ii", &warmup, &runs))
        return NULL;
    if (!s->sess)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is not initialised");
    if (s->busy)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is running in another thread: use one session per thread");
    if (runs < 1 || warmup < 0 || runs > 1000000)
        return raise_evo(EVO_ERR_INVALID_ARG, "bench: need runs in 1..1000000 and warmup >= 0");
    double *ms = PyMem_Malloc(sizeof(double) * (size_t)runs);
    if (!ms)
        return PyErr_NoMemory();
    evo_error err = {0};
    evo_status st = EVO_OK;
    s->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    for (int i = 0; i < warmup + runs && st == EVO_OK; i++) {
        int64_t t0 = evo_now_ns();
        st = evo_session_run(s->sess, &err);
        if (i >= warmup)
            ms[i - warmup] = (double)(evo_now_ns() - t0) * 1e-6;
    }
    Py_END_ALLOW_THREADS
    s->busy = 0;
    PyObject *list = st == EVO_OK ? PyList_New(runs) : raise_evo(st, err.msg);
    for (int i = 0; list && i < runs; i++)
        PyList_SET_ITEM(list, i, PyFloat_FromDouble(ms[i]));
    PyMem_Free(ms);
    return list;
}

/* _profile() -> [(node, op, kernel, output, ms, flops, bytes, n_tasks, is_reference, cpu_ms), ...] of the last run */
static PyObject *session_profile(PyObject *self, PyObject *unused)
{
    SessionObject *s = (SessionObject *)self;
    if (!s->sess)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is not initialised");
    int n = evo_session_n_steps(s->sess);
    PyObject *list = PyList_New(0);
    for (int i = 0; list && i < n; i++) {
        evo_step_profile p;
        if (evo_session_profile(s->sess, i, &p) != EVO_OK)
            continue;
        PyObject *t = Py_BuildValue("(ssssdddiOd)", p.node ? p.node : "", p.op ? p.op : "",
                                    p.kernel ? p.kernel : "", p.output ? p.output : "", p.time_ms, p.flops,
                                    p.bytes, p.n_tasks, p.is_reference ? Py_True : Py_False, p.cpu_ms);
        if (!t || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

static PyObject *session_arena_bytes(PyObject *self, PyObject *unused)
{
    SessionObject *s = (SessionObject *)self;
    if (!s->sess)
        return raise_evo(EVO_ERR_INVALID_ARG, "session is not initialised");
    return PyLong_FromSize_t(evo_session_arena_bytes(s->sess));
}

static PyMethodDef session_methods[] = {
    {"_input_buffer", session_input_buffer, METH_O, "_input_buffer(i) -> writable Buffer over input i"},
    {"_output_buffer", session_output_buffer, METH_O, "_output_buffer(i) -> read-only Buffer over output i"},
    {"_pointer", session_pointer, METH_VARARGS, "_pointer(i, output) -> address of the tensor in the arena"},
    {"_run", session_run, METH_O, "_run(inputs or None): copy inputs in, run with the GIL released"},
    {"_bench", session_bench, METH_VARARGS, "_bench(warmup, runs) -> per-run ms of the C call"},
    {"_profile", session_profile, METH_NOARGS, "_profile() -> per-step timings of the last run"},
    {"_arena_bytes", session_arena_bytes, METH_NOARGS, "_arena_bytes() -> bytes of the session arena"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "evo._evo.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_dealloc = session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Mutable run state of a model (one thread at a time).",
    .tp_methods = session_methods,
    .tp_init = session_init,
    .tp_new = PyType_GenericNew,
};

#include "_detector.inc"

static PyObject *mod_set_raiser(PyObject *mod, PyObject *fn)
{
    Py_XSETREF(g_raise, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_set_raiser", mod_set_raiser, METH_O, "_set_raiser(fn): fn(code, name, msg) raises the evo.Error subclass"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "evo._evo", "The C extension of the evo package (use the evo module).", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__evo(void)
{
    PyTypeObject *types[] = {&BufferType, &ModelType, &SessionType, &DetectorType};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Model", (PyObject *)&ModelType) < 0 ||
        PyModule_AddObjectRef(m, "Session", (PyObject *)&SessionType) < 0 ||
        PyModule_AddObjectRef(m, "Detector", (PyObject *)&DetectorType) < 0 ||
        PyModule_AddStringConstant(m, "version", EVO_VERSION_STRING) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
