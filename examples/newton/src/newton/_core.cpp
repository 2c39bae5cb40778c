// Newton's method for f(z) = z^3 - 1 on a grid of the complex plane: for each
// point, which of the three cube roots of unity the iteration converges to
// (0, 1, 2), or -1 when it does not converge within max_iter steps.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <complex>
#include <vector>

namespace py = pybind11;

std::vector<int> basins(int width, int height, double extent, int max_iter) {
    const std::complex<double> roots[3] = {
        {1.0, 0.0}, {-0.5, std::sqrt(3.0) / 2.0}, {-0.5, -std::sqrt(3.0) / 2.0}};
    std::vector<int> out(static_cast<size_t>(width) * height, -1);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            std::complex<double> z(-extent + 2.0 * extent * (x + 0.5) / width,
                                   -extent + 2.0 * extent * (y + 0.5) / height);
            for (int i = 0; i < max_iter; ++i) {
                const std::complex<double> z2 = z * z;
                if (std::abs(z2) < 1e-12) break;
                z -= (z2 * z - 1.0) / (3.0 * z2);
                for (int r = 0; r < 3; ++r) {
                    if (std::abs(z - roots[r]) < 1e-6) {
                        out[static_cast<size_t>(y) * width + x] = r;
                        i = max_iter;
                        break;
                    }
                }
            }
        }
    }
    return out;
}

PYBIND11_MODULE(_core, m) {
    m.doc() = "Newton basins for z^3 - 1";
    m.def("basins", &basins, py::arg("width"), py::arg("height"), py::arg("extent"),
          py::arg("max_iter"), "Root index per grid point (row-major), -1 if not converged.");
}
