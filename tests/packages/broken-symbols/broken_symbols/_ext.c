#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

/* arc4random appeared in glibc 2.36: the symbol is versioned GLIBC_2.36. */
static PyObject *random_word(PyObject *self, PyObject *args) {
    return PyLong_FromUnsignedLong(arc4random());
}

static PyMethodDef methods[] = {
    {"random_word", random_word, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&module); }
