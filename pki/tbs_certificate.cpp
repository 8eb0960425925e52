#include "pki/tbs_certificate.h"
