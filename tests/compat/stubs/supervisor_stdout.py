"""supervisor-stdout's result handler (pypi supervisor-stdout 0.1.1, the module that
27-wyveo-nginx-php-fpm.conf's [eventlistener:stdout] names), installed in the private root of a
corpus run as the image installs it: without it supervisord refuses the config."""


def event_handler(event, response):
    line, data = response.split("\n", 1)
    headers = dict(x.split(":") for x in line.split())
    prefix = "%s %s | " % (headers["processname"], headers["channel"])
    print("\n".join(prefix + x for x in data.split("\n")))
