"""The notes' two scripts (seed 003 §dl_6_2), verbatim but for the plots and prints, as functions.

Each runs on torch's global RNG exactly as the notes do (``torch.manual_seed(42)`` first); call them
inside ``torch.random.fork_rng()`` so the test leaves the global RNG as it found it.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class BayesianLinear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        # 均值与log方差参数
        self.w_mu = nn.Parameter(torch.Tensor(out_features, in_features).normal_(0, 0.1))
        self.w_logvar = nn.Parameter(torch.Tensor(out_features, in_features).normal_(-3, 0.1))
        self.b_mu = nn.Parameter(torch.Tensor(out_features).normal_(0, 0.1))
        self.b_logvar = nn.Parameter(torch.Tensor(out_features).normal_(-3, 0.1))

    def forward(self, x, sample=True):
        if sample:
            w = self.w_mu + torch.exp(0.5 * self.w_logvar) * torch.randn_like(self.w_mu)
            b = self.b_mu + torch.exp(0.5 * self.b_logvar) * torch.randn_like(self.b_mu)
        else:
            w, b = self.w_mu, self.b_mu
        return F.linear(x, w, b)

    def kl_loss(self):
        # KL 散度项：衡量权重分布与先验 N(0,1) 的距离
        return 0.5 * torch.sum(
            torch.exp(self.w_logvar) + self.w_mu**2 - 1.0 - self.w_logvar
        ) + 0.5 * torch.sum(
            torch.exp(self.b_logvar) + self.b_mu**2 - 1.0 - self.b_logvar
        )


class BayesianNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = BayesianLinear(1, 20)
        self.fc2 = BayesianLinear(20, 20)
        self.fc3 = BayesianLinear(20, 1)

    def forward(self, x, sample=True):
        x = torch.relu(self.fc1(x, sample))
        x = torch.relu(self.fc2(x, sample))
        return self.fc3(x, sample)

    def kl_loss(self):
        return self.fc1.kl_loss() + self.fc2.kl_loss() + self.fc3.kl_loss()


def variational_script(epochs: int = 2000) -> dict[str, torch.Tensor]:
    """The notes' variational script; returns the data, the per-epoch losses and the predictions."""
    torch.manual_seed(42)

    N = 100
    x = torch.linspace(-3, 3, N).unsqueeze(1)
    y_true = torch.sin(x)
    y = y_true + 0.2 * torch.randn_like(y_true)  # 添加噪声

    model = BayesianNN()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        y_pred = model(x, sample=True)
        likelihood = F.mse_loss(y_pred, y, reduction='sum')
        kl = model.kl_loss()
        loss = likelihood + 1e-3 * kl
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())

    model.eval()
    x_test = torch.linspace(-3, 3, 200).unsqueeze(1)
    pred_samples = []
    with torch.no_grad():
        for _ in range(100):  # 采样100次
            pred = model(x_test, sample=True)
            pred_samples.append(pred)
    pred_stack = torch.stack(pred_samples)   # (100, 200, 1)
    y_mean = pred_stack.mean(0).squeeze()
    y_std = pred_stack.std(0).squeeze()
    return {"x": x, "y": y, "losses": torch.stack(losses), "mean": y_mean, "std": y_std,
            "w_mu": model.fc1.w_mu.detach(), "w_logvar": model.fc1.w_logvar.detach()}


class MCDropoutNN(nn.Module):
    def __init__(self, input_dim=1, hidden_dim=64, output_dim=1, dropout_p=0.2):
        super(MCDropoutNN, self).__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.fc3 = nn.Linear(hidden_dim, output_dim)
        self.dropout = nn.Dropout(p=dropout_p)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = self.dropout(x)
        x = torch.relu(self.fc2(x))
        x = self.dropout(x)
        x = self.fc3(x)
        return x


def mc_dropout_script(epochs: int = 2000) -> dict[str, torch.Tensor]:
    """The notes' MC-Dropout script; returns the data, the per-epoch losses and the predictions."""
    torch.manual_seed(42)

    N = 100
    x = torch.linspace(-3, 3, N).unsqueeze(1)
    y_true = torch.sin(x)
    y = y_true + 0.2 * torch.randn_like(y_true)

    model = MCDropoutNN(input_dim=1, hidden_dim=64, dropout_p=0.2)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        y_pred = model(x)
        loss = criterion(y_pred, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())

    def mc_dropout_predict(model, x_test, n_samples=100):
        model.train()  # 关键！保持 Dropout 激活状态
        preds = []
        with torch.no_grad():
            for _ in range(n_samples):
                pred = model(x_test)
                preds.append(pred)
        preds = torch.stack(preds)  # (n_samples, N, 1)
        return preds

    x_test = torch.linspace(-3, 3, 200).unsqueeze(1)
    preds = mc_dropout_predict(model, x_test, n_samples=100)
    y_mean = preds.mean(0).squeeze()
    y_std = preds.std(0).squeeze()
    return {"x": x, "y": y, "losses": torch.stack(losses), "mean": y_mean, "std": y_std}
