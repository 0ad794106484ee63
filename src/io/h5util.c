/* h5util — see h5util.h. */
#include "ntasweep/io/h5util.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ntasweep/core/err.h"

void ntas_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void ntas_h5_start(void)
{
    H5dont_atexit();
    H5open();
    ntas_h5_quiet();
}

long ntas_h5_finish(void)
{
    ssize_t open_files = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
    if (open_files == 0) H5close();
    return open_files < 0 ? 1 : (long)open_files;
}

/* The outermost (API) and innermost (most specific) entries of a stack. */
typedef struct {
    unsigned n;
    int inner_has_errno;   /* the innermost entry names the system's reason */
    char api[64], outer[256], inner[512];
} stack_ends;

static herr_t stack_entry(unsigned n, const H5E_error2_t *e, void *data)
{
    stack_ends *s = data;
    const char *desc = e->desc ? e->desc : "";
    if (n == 0) {
        snprintf(s->api, sizeof s->api, "%s", e->func_name ? e->func_name : "?");
        snprintf(s->outer, sizeof s->outer, "%s", desc);
    }
    snprintf(s->inner, sizeof s->inner, "%s", desc);
    s->inner_has_errno = strstr(desc, "error message = '") != NULL;
    s->n = n + 1;
    return 0;
}

/* The sec2/MPI-IO drivers describe a failed system call as "file write
 * failed: time = ..., filename = ..., errno = 28, error message = 'No
 * space left on device', buf = ..." — keep the head and the message. */
static void shorten_driver_text(char *desc, size_t len)
{
    const char *msg = strstr(desc, "error message = '");
    const char *colon = strchr(desc, ':');
    if (!msg || !colon || colon > msg) return;
    msg += strlen("error message = '");
    const char *end = strchr(msg, '\'');
    char out[512];
    snprintf(out, sizeof out, "%.*s: %.*s", (int)(colon - desc), desc, (int)(end ? end - msg : (long)strlen(msg)), msg);
    snprintf(desc, len, "%s", out);
}

/* What statvfs and access show about the directory holding path, written to
 * out only when it explains a failed write (a full device, a read-only or
 * unwritable directory); otherwise out is left empty. */
static void checked_dir_state(const char *path, char *out, size_t outlen)
{
    out[0] = '\0';
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    const char *dir = dirname(buf);
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        if (vfs.f_flag & ST_RDONLY) {
            ntas_set_err(out, outlen, "%s is on a read-only file system", dir);
            return;
        }
        /* root may use the reserved blocks: only none free at all stops it */
        if ((geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail) == 0) {
            ntas_set_err(out, outlen, "no space left on the device holding %s", dir);
            return;
        }
    }
    if (access(dir, W_OK) != 0) ntas_set_err(out, outlen, "%s is not writable (%s)", dir, strerror(errno));
}

/* `what` from fmt, then the stack's ends, then the system's reason when the
 * stack lacks it (ntas_h5_fail_io; sys_errno 0 and no path: none). */
static void fail_v(char *err, size_t errlen, int sys_errno, const char *path, const char *fmt, va_list ap)
{
    if (!err || errlen == 0) return;
    stack_ends s;
    memset(&s, 0, sizeof s);
    /* Walk first: formatting `what` calls no HDF5 function, but be safe. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, stack_entry, &s);
    vsnprintf(err, errlen, fmt, ap);
    if (s.n > 0) {
        shorten_driver_text(s.inner, sizeof s.inner);
        size_t used = strlen(err);
        if (used + 1 >= errlen) return;
        if (s.n == 1 || !strcmp(s.outer, s.inner))
            ntas_set_err(err + used, errlen - used, ": %s: %s", s.api, s.inner);
        else
            ntas_set_err(err + used, errlen - used, ": %s: %s (%s)", s.api, s.outer, s.inner);
    }
    if (s.inner_has_errno) return;   /* the sec2 driver's text already says it */
    char reason[4200] = "";
    if (sys_errno != 0) ntas_set_err(reason, sizeof reason, "system error: %s", strerror(sys_errno));
    else if (path && path[0]) checked_dir_state(path, reason, sizeof reason);
    size_t used = strlen(err);
    if (reason[0] && used + 1 < errlen) ntas_set_err(err + used, errlen - used, "; %s", reason);
}

void ntas_h5_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(err, errlen, 0, NULL, fmt, ap);
    va_end(ap);
}

void ntas_h5_fail_io(char *err, size_t errlen, int sys_errno, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(err, errlen, sys_errno, path, fmt, ap);
    va_end(ap);
}

hid_t ntas_h5_str_type(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return H5I_INVALID_HID;
    if (H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

int ntas_h5_set_str_attr(hid_t obj, const char *name, const char *value)
{
    int rc = -1;
    hid_t t = ntas_h5_str_type(strlen(value) + 1), sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (t < 0) goto cleanup;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Awrite(a, t, value) < 0) goto cleanup;
    rc = 0;
cleanup:;
    /* The closes would clear the stack that explains the failure. */
    hid_t stack = rc < 0 ? H5Eget_current_stack() : H5I_INVALID_HID;
    if (ntas_h5_close(&a) < 0) rc = -1;
    ntas_h5_close(&sp);
    ntas_h5_close(&t);
    if (stack >= 0) H5Eset_current_stack(stack);
    return rc;
}

int ntas_h5_set_i64_attr(hid_t obj, const char *name, int64_t value)
{
    int rc = -1;
    hid_t sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Awrite(a, H5T_NATIVE_INT64, &value) < 0) goto cleanup;
    rc = 0;
cleanup:;
    hid_t stack = rc < 0 ? H5Eget_current_stack() : H5I_INVALID_HID;
    if (ntas_h5_close(&a) < 0) rc = -1;
    ntas_h5_close(&sp);
    if (stack >= 0) H5Eset_current_stack(stack);
    return rc;
}

int ntas_h5_close(hid_t *id)
{
    if (*id < 0) return 0;
    herr_t rc;
    H5E_BEGIN_TRY {
        switch (H5Iget_type(*id)) {
        case H5I_FILE: rc = H5Fclose(*id); break;
        case H5I_GROUP: rc = H5Gclose(*id); break;
        case H5I_DATASET: rc = H5Dclose(*id); break;
        case H5I_DATASPACE: rc = H5Sclose(*id); break;
        case H5I_DATATYPE: rc = H5Tclose(*id); break;
        case H5I_ATTR: rc = H5Aclose(*id); break;
        case H5I_GENPROP_LST: rc = H5Pclose(*id); break;
        default: rc = -1; break;
        }
    } H5E_END_TRY;
    *id = H5I_INVALID_HID;
    return rc < 0 ? -1 : 0;
}
