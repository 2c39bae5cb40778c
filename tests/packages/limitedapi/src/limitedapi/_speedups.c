#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

#ifdef LIMITEDAPI_VIOLATE
/* Outside the stable ABI: the wheel is tagged abi3 but is not (abi3audit must say so). */
PyAPI_FUNC(int) PyObject_Print(PyObject *, FILE *, int);
static PyObject *show(PyObject *self, PyObject *arg) {
    if (PyObject_Print(arg, stdout, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}
#endif

static PyMethodDef methods[] = {
#ifdef LIMITEDAPI_VIOLATE
    {"show", show, METH_O, "Print an object (not in the stable ABI)."},
#endif
    {"add", add, METH_VARARGS, "Add two integers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
