#include "pki/serial_number.h"
