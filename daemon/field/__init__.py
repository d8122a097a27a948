"""What a technician in the store needs: the board checked against its profile (``doctor``)
and the serial console's operations on the store (``console``)."""
