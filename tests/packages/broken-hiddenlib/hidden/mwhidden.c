int mwhidden_answer(void) { return 42; }
