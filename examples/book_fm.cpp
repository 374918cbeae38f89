// D2L §15.9 "Factorization Machines", as a curec program: 20 factors, Adam lr 0.02,
// 30 epochs of batch 2048, binary cross-entropy; the test set's accuracy, AUC and log loss.
//   book_fm [cpu|cuda[:N]] [data] [--early-stop]
#include "examples/ctr_program.h"

int main(int argc, char** argv) { return curec::examples::run_ctr_program("book_fm", false, argc, argv); }
