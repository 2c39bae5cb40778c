#define PY_SSIZE_T_CLEAN
#include <Python.h>

int mwabsent_answer(void);

static PyObject *answer(PyObject *self, PyObject *args) {
    return PyLong_FromLong(mwabsent_answer());
}

static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&module); }
