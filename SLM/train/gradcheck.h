#pragma once
// Returns 0 if every tensor's analytic gradient matches finite differences within tol.
int gradcheck(double tol);
