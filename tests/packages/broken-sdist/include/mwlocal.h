#ifndef MWLOCAL_H
#define MWLOCAL_H
#define MWLOCAL_ANSWER 42
#endif
