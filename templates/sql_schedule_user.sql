-- The user the scheduler jobs belong to; locked, it is never logged in to.
create user ${scheduleuser} identified by "${userpassword}" account lock;
grant create job, create external job, create procedure, select any dictionary to ${scheduleuser};
