<?php
header('Content-Type: text/plain');
printf("php-site: PHP %s via %s, pid %d\n", PHP_VERSION, php_sapi_name(), getmypid());
