import TimerCore
